"""Signing in: with a password (throttled), or with SmartRecruiters (administrators only)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from tests.fixtures.emulator import (
    ACME_API_KEY,
    SIGNIN_APP_ID,
    SIGNIN_APP_SECRET,
    acme_company,
    default_state,
)
from tests.web.conftest import PASSWORD
from user2smart.companies.models import Membership
from user2smart.companies.services import company_issue_access_key

TIMEOUT = 10


def sign_in(browser: Client, username: str, password: str):
    return browser.post(reverse("signin"), {"username": username, "password": password})


def test_the_right_password_opens_the_pages(member_a):
    browser = Client()

    response = sign_in(browser, "anna", PASSWORD)
    page = browser.get(response["Location"], follow=True)

    assert response.status_code == 302
    assert b"Alpha Ltd" in page.content
    assert b"New import" in page.content


def test_a_wrong_password_is_refused_in_words(member_a):
    response = sign_in(Client(), "anna", "not the password")

    assert response.status_code == 200
    assert b"Your user name and password did not match." in response.content


def test_five_wrong_passwords_lock_the_user_name_out(member_a):
    browser = Client()
    for _ in range(5):
        sign_in(browser, "anna", "guess")

    response = sign_in(browser, "anna", PASSWORD)

    assert b"Too many sign-in attempts" in response.content
    assert browser.get(reverse("imports:new")).status_code == 302  # still signed out


# Sign in with SmartRecruiters --------------------------------------------------------------------

IVY = {
    "id": "65a0000000000000000000f1",
    "email": "ivy.admin@acme.example",
    "firstName": "Ivy",
    "lastName": "Admin",
    "systemRole": {"id": "ADMINISTRATOR"},
    "language": {"code": "en"},
    "active": True,
}


@pytest.fixture
def sr_signin(settings, emulator, acme):
    settings.SMARTRECRUITERS_SIGNIN_CLIENT_ID = SIGNIN_APP_ID
    settings.SMARTRECRUITERS_SIGNIN_CLIENT_SECRET = SIGNIN_APP_SECRET
    settings.SMARTRECRUITERS_SIGNIN_URL = emulator.url
    emulator.reset(default_state(acme=acme_company(users=[*acme_company()["users"], IVY])))
    return company_issue_access_key(company=acme)


def user_id(emulator, email: str, company: str = "acme") -> str:
    return emulator.user(email, company)["id"]


def smartrecruiters_allows(browser: Client, access_key: str, person_id: str) -> str:
    """Give the access key, pick the person on SmartRecruiters' page: the callback address."""
    response = browser.post(reverse("signin_smartrecruiters"), {"access_key": access_key})
    assert response.status_code == 302, response.content[:300]
    allow_url = response["Location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(allow_url).query).items()}
    page = requests.get(allow_url, timeout=TIMEOUT)
    assert page.status_code == 200
    allowed = requests.post(
        allow_url.split("?")[0],
        data={
            "client_id": params["client_id"],
            "redirect_uri": params["redirect_uri"],
            "state": params["state"],
            "user_id": person_id,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert allowed.status_code == 302, allowed.text
    return allowed.headers["Location"]


def come_back(browser: Client, callback: str):
    parts = urlsplit(callback)
    return browser.get(f"{parts.path}?{parts.query}")


@pytest.mark.integration
def test_an_active_administrator_of_the_company_gets_in(sr_signin, emulator, acme):
    browser = Client()

    callback = smartrecruiters_allows(browser, sr_signin, user_id(emulator, IVY["email"]))
    response = come_back(browser, callback)
    page = browser.get("/", follow=True)

    assert response.status_code == 302
    assert b"Acme Demo" in page.content
    assert b"New import" in page.content
    member = Membership.objects.get(company=acme).user
    assert (member.email, member.first_name) == (IVY["email"], "Ivy")
    assert not member.has_usable_password()


@pytest.mark.integration
def test_a_user_who_is_not_an_administrator_is_refused(sr_signin, emulator):
    browser = Client()

    callback = smartrecruiters_allows(
        browser, sr_signin, user_id(emulator, "alice.martin@acme.example")
    )
    response = come_back(browser, callback)

    assert response.status_code == 403
    assert b"Only SmartRecruiters administrators can use User2Smart." in response.content
    assert browser.get(reverse("imports:new")).status_code == 302


@pytest.mark.integration
def test_a_user_deactivated_before_coming_back_is_refused(sr_signin, emulator):
    browser = Client()
    ivy = user_id(emulator, IVY["email"])
    callback = smartrecruiters_allows(browser, sr_signin, ivy)
    emulator.call("DELETE", f"/users/{ivy}/activation", api_key=ACME_API_KEY)

    response = come_back(browser, callback)

    assert response.status_code == 403
    assert b"Your SmartRecruiters account is not active." in response.content


@pytest.mark.integration
def test_an_administrator_of_another_company_is_refused(sr_signin, emulator):
    browser = Client()
    hank = user_id(emulator, "hank.scorpio@globex.example", "globex")

    response = come_back(browser, smartrecruiters_allows(browser, sr_signin, hank))

    assert response.status_code == 403
    assert b"Your SmartRecruiters account does not belong to Acme Demo." in response.content
    assert not Membership.objects.exists()


@pytest.mark.integration
def test_a_wrong_access_key_is_refused_in_words(sr_signin):
    response = Client().post(reverse("signin_smartrecruiters"), {"access_key": "u2s-wrong"})

    assert response.status_code == 200
    assert b"This access key is not valid." in response.content
