"""Every page renders for a member; the others are sent to sign in or told they have no company."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from imports.models import ImportRun
from tests.fixtures.emulator import ACME_API_KEY
from tests.web.conftest import make_company, make_member, signed_in
from user2smart.companies.services import company_issue_access_key

PAGES = ["imports:new", "imports:history", "imports:export", "imports:help", "imports:csv_format"]
POST_ONLY = {"apply", "discard", "cancel", "retry", "export_download"}
ID_URLS = [
    ("imports:run", "run_id"),
    ("imports:progress", "run_id"),
    ("imports:rows", "run_id"),
    ("imports:apply", "run_id"),
    ("imports:discard", "run_id"),
    ("imports:cancel", "run_id"),
    ("imports:retry", "run_id"),
    ("imports:log", "run_id"),
    ("imports:failed_rows", "run_id"),
    ("imports:export_status", "export_id"),
    ("imports:export_download", "export_id"),
]
EVERY_URL = [
    *[("get", reverse(name)) for name in PAGES],
    ("get", reverse("imports:home")),
    ("get", reverse("imports:lists")),
    ("get", reverse("imports:list_download", args=["roles"])),
    ("get", reverse("imports:template")),
    *[
        ("post" if name.split(":")[1] in POST_ONLY else "get", reverse(name, kwargs={arg: 1}))
        for name, arg in ID_URLS
    ],
]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_for_a_member(browser_a, name):
    response = browser_a.get(reverse(name))

    assert response.status_code == 200
    assert b"Alpha Ltd" in response.content
    assert b"Sign out" in response.content


def test_the_start_page_opens_a_new_import(browser_a):
    response = browser_a.get("/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("imports:new")
    assert b"Preview before applying" in response.content


@pytest.mark.parametrize(("method", "url"), EVERY_URL)
def test_people_who_are_not_signed_in_are_sent_to_sign_in(client, db, method, url):
    response = getattr(client, method)(url, follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("signin"))
    assert b"Sign in" in response.content


def test_a_live_part_whose_session_ended_reloads_the_whole_page(client, db):
    response = client.get("/imports/1/progress/?status=running", HTTP_HX_REQUEST="true")

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_a_person_without_a_company_is_told_so(django_user_model, db):
    browser = signed_in(make_member(django_user_model, "nobody"))

    response = browser.get(reverse("imports:new"))

    assert response.status_code == 403
    assert b"Your account is not linked to any company" in response.content


@pytest.mark.integration
def test_the_header_says_who_the_company_is_connected_as(acme_browser):
    response = acme_browser.get(reverse("imports:help"))

    assert b"Connected to SmartRecruiters as Erin Admin" in response.content


def test_the_header_says_who_is_signed_in_by_name_then_email(django_user_model, company_a):
    named = make_member(django_user_model, "h.ortiz", company_a)
    named.first_name, named.last_name = "Helena", "Ortiz"
    named.save()
    unnamed = make_member(django_user_model, "sr-64b7f0c2a1d3", company_a)
    unnamed.first_name, unnamed.email = "", "sam.lee@acme.example"
    unnamed.save()

    assert b"Signed in as <strong>Helena Ortiz</strong>" in signed_in(named).get("/help/").content
    page = signed_in(unnamed).get("/help/").content
    assert b"Signed in as <strong>sam.lee@acme.example</strong>" in page
    assert b"sr-64b7f0c2a1d3" not in page


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_site_s_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].endswith("/user2smart/favicon.ico")
    icon = finders.find("user2smart/favicon.ico")
    assert icon is not None
    assert Path(icon).read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_header_says_when_smartrecruiters_cannot_be_reached(browser_a):
    response = browser_a.get(reverse("imports:help"))

    assert b"could not be reached" in response.content


@pytest.mark.integration
def test_no_page_shows_the_company_credentials(acme, acme_browser):
    access_key = company_issue_access_key(company=acme)
    urls = [reverse(name) for name in [*PAGES, "imports:lists"]]

    for url in urls:
        content = acme_browser.get(url).content.decode()
        assert ACME_API_KEY not in content, url
        assert access_key not in content, url


def test_the_company_switcher_changes_what_the_pages_show(django_user_model, db):
    alpha, beta = make_company("alpha", "Alpha Ltd"), make_company("beta", "Beta Inc")
    browser = signed_in(make_member(django_user_model, "both", alpha, beta))
    ImportRun.objects.create(company=alpha, source="upload", file_name="alpha-people.csv")
    ImportRun.objects.create(company=beta, source="upload", file_name="beta-people.csv")

    first = browser.get(reverse("imports:history"))
    browser.post(reverse("switch_company"), {"company": beta.pk, "next": "/imports/"})
    second = browser.get(reverse("imports:history"))

    assert b"alpha-people.csv" in first.content
    assert b"beta-people.csv" not in first.content
    assert b"beta-people.csv" in second.content
    assert b"alpha-people.csv" not in second.content


def test_the_company_switcher_refuses_a_company_the_person_is_not_in(browser_a, company_b):
    response = browser_a.post(
        reverse("switch_company"), {"company": company_b.pk, "next": "/imports/"}, follow=True
    )

    assert b"You are not a member of that company." in response.content
    assert b"Alpha Ltd" in response.content


def test_history_lists_every_run_newest_first_with_who_started_it(browser_a, company_a, member_a):
    ImportRun.objects.create(
        company=company_a, source="schedule", file_name="nightly.csv", mode="update"
    )
    ImportRun.objects.create(company=company_a, source="command", file_name="cli.csv")
    ImportRun.objects.create(
        company=company_a,
        source="upload",
        created_by=member_a,
        file_name="mine.csv",
        status="finished",
        count_create=3,
        finished_at="2026-01-01T00:00:00Z",
    )

    content = browser_a.get(reverse("imports:history")).content.decode()

    assert content.index("mine.csv") < content.index("cli.csv") < content.index("nightly.csv")
    assert "schedule" in content
    assert "command line" in content
    assert "Anna" in content
    assert 'aria-label="V: no errors"' in content


def test_history_is_paged(browser_a, company_a):
    ImportRun.objects.bulk_create(
        ImportRun(company=company_a, source="upload", file_name=f"file-{i}.csv") for i in range(30)
    )

    first = browser_a.get(reverse("imports:history")).content.decode()
    second = browser_a.get(reverse("imports:history") + "?page=2").content.decode()

    assert "Page 1 of 2" in first
    assert first.count("file-") == 25
    assert second.count("file-") == 5


def test_a_missing_page_says_so_in_words(browser_a):
    response = browser_a.get("/imports/999999/")

    assert response.status_code == 404
    assert b"This page does not exist, or it belongs to another company." in response.content


@pytest.mark.parametrize("url", ["/imports/1/apply/", "/imports/1/cancel/", "/imports/1/retry/"])
def test_actions_are_post_only(browser_a, url):
    assert browser_a.get(url).status_code == 405


def test_actions_need_the_csrf_token(member_a, company_a):
    run = ImportRun.objects.create(company=company_a, source="upload", status="planned")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member_a)

    response = browser.post(reverse("imports:discard", args=[run.pk]))

    assert response.status_code == 403
    run.refresh_from_db()
    assert run.status == "planned"
