"""Signing in, in the browser: with a password, and with SmartRecruiters through the emulator."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible
from tests.fixtures.emulator import SIGNIN_APP_ID, SIGNIN_APP_SECRET, acme_company, default_state
from tests.web.conftest import PASSWORD
from user2smart.companies.services import company_issue_access_key

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ERIN = "Erin Admin <admin@acme.example> - Acme Demo"  # Acme's administrator
ALICE = "Alice Martin <alice.martin@acme.example> - Acme Demo"  # a STANDARD user


def sign_in_button(page):
    return page.get_by_role("button", name="Sign in", exact=True)


def test_the_right_password_opens_the_company_s_pages(page, screens, acme_admin):
    page.goto("/")
    screens.take(page, "sign in")
    assert_accessible(page, sign_in_button(page))

    page.get_by_label("User name").fill("hr.admin")
    page.get_by_label("Password").fill(PASSWORD)
    sign_in_button(page).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    screens.take(page, "start page")
    assert_accessible(page, page.get_by_role("button", name="Upload"))
    expect(page.locator(".topbar .company")).to_have_text("Acme Demo")
    expect(page.locator(".topbar .connection")).to_contain_text(
        "Connected to SmartRecruiters as Erin Admin"
    )
    expect(page.locator(".topbar .person")).to_have_text("Signed in as Hr.Admin")


def test_a_wrong_password_is_refused_in_words(page, screens, acme_admin):
    page.goto("/signin/")
    page.get_by_label("User name").fill("hr.admin")
    page.get_by_label("Password").fill("not the password")
    sign_in_button(page).click()

    expect(page.get_by_role("alert")).to_have_text(
        "Your user name and password did not match. Please try again."
    )
    screens.take(page, "refused")
    assert_accessible(page, sign_in_button(page))
    expect(page.get_by_label("User name")).to_have_value("hr.admin")
    expect(page.locator(".topbar .company")).to_have_count(0)


@pytest.fixture
def access_key(settings, emulator, acme) -> str:
    """ "Sign in with SmartRecruiters" switched on, with the emulator as SmartRecruiters."""
    settings.SMARTRECRUITERS_SIGNIN_CLIENT_ID = SIGNIN_APP_ID
    settings.SMARTRECRUITERS_SIGNIN_CLIENT_SECRET = SIGNIN_APP_SECRET
    settings.SMARTRECRUITERS_SIGNIN_URL = emulator.url
    return company_issue_access_key(company=acme)


def sign_in_with_smartrecruiters_as(page, screens, emulator, access_key: str, person: str):
    """From the sign-in page to SmartRecruiters' (the emulator's) page and back as `person`."""
    page.goto("/signin/")
    page.get_by_role("link", name="Sign in with SmartRecruiters").click()
    continue_button = page.get_by_role("button", name="Continue to SmartRecruiters")
    screens.take(page, "access key")
    assert_accessible(page, continue_button)

    page.get_by_label("Your company's access key").fill(access_key)
    continue_button.click()
    page.wait_for_url(f"{emulator.url}/**")
    screens.take(page, "smartrecruiters")
    page.locator("#user_id").select_option(label=person)
    page.get_by_role("button", name="Allow").click()


def test_an_administrator_signs_in_with_smartrecruiters(page, screens, emulator, access_key):
    sign_in_with_smartrecruiters_as(page, screens, emulator, access_key, ERIN)

    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    screens.take(page, "signed in")
    assert_accessible(page, page.get_by_role("button", name="Upload"))
    expect(page.locator(".topbar .company")).to_have_text("Acme Demo")
    expect(page.locator(".topbar .connection")).to_contain_text("Connected to SmartRecruiters")


def test_the_header_says_who_is_signed_in_apart_from_the_connection(
    page, screens, emulator, access_key
):
    acme = acme_company()
    acme["users"].append(
        {
            "id": "65a0000000000000000000aa",
            "email": "helena.ortiz@acme.example",
            "firstName": "Helena",
            "lastName": "Ortiz",
            "systemRole": {"id": "ADMINISTRATOR"},
            "language": {"code": "en"},
            "active": True,
        }
    )
    emulator.reset(default_state(acme=acme))

    sign_in_with_smartrecruiters_as(
        page, screens, emulator, access_key, "Helena Ortiz <helena.ortiz@acme.example> - Acme Demo"
    )

    expect(page.get_by_role("heading", level=1)).to_have_text("New import")
    screens.take(page, "signed in as helena")
    expect(page.locator(".topbar .person")).to_have_text("Signed in as Helena Ortiz")
    expect(page.locator(".topbar .connection")).to_contain_text(
        "Connected to SmartRecruiters as Erin Admin"
    )


def test_a_user_who_is_not_an_administrator_is_refused_on_the_page(
    page, screens, emulator, access_key
):
    sign_in_with_smartrecruiters_as(page, screens, emulator, access_key, ALICE)

    expect(page.get_by_role("alert")).to_have_text(
        "Only SmartRecruiters administrators can use User2Smart. Ask an administrator of your "
        "company for access."
    )
    screens.take(page, "refused")
    assert_accessible(page, page.get_by_role("button", name="Continue to SmartRecruiters"))
    expect(page.locator(".topbar .company")).to_have_count(0)
    page.goto("/imports/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
