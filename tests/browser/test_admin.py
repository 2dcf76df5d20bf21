"""The operators' Django admin, in the browser: pages fit a laptop screen and name people."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from scheduler.models import Schedule
from scheduler.sftp import parse_host_keys
from user2smart.companies.models import Membership
from user2smart.companies.services import company_save
from user2smart.companies.signin import SmartRecruitersPerson, signin_member

pytestmark = [pytest.mark.browser, pytest.mark.integration]

LAPTOP = {"width": 1280, "height": 800}
# How much wider than the window the page is (a horizontal scroll bar, columns cut off).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def operator_page(page: Page, admin_user, live_server) -> Page:
    """The tab signed in as an operator (a superuser), in a 1280 px wide window."""
    client = Client()
    client.force_login(admin_user)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    page.set_viewport_size(LAPTOP)
    return page


def test_the_companies_list_fits_a_laptop_screen(operator_page, screens, acme):
    company_save(
        slug="northwind-traders-international",
        name="Northwind Traders International",
        api_url="https://api.example.test",
        client_id="client-1",
        client_secret="not-a-real-secret",
    )
    page = operator_page
    page.goto("/admin/companies/company/")

    expect(page.get_by_role("link", name="Acme Demo")).to_be_visible()
    screens.take(page, "companies")
    assert page.evaluate(OVERFLOW) == 0
    # The table scrolls inside its box when too wide: every column must be in view.
    results = page.locator("#changelist .results")
    assert results.evaluate("(box) => box.scrollWidth - box.clientWidth") == 0
    expect(page.locator("#result_list thead th").last).to_be_in_viewport(ratio=1)


def test_members_who_signed_in_with_smartrecruiters_show_by_name_and_email(
    operator_page, screens, acme
):
    person = SmartRecruitersPerson(
        id="64b7c0ffee0123456789abcd",
        email="helena.admin@acme.example",
        first_name="Helena",
        last_name="Admin",
    )
    signin_member(company=acme, person=person)

    page = operator_page
    page.goto(f"/admin/companies/company/{acme.pk}/change/")
    screens.take(page, "company memberships")
    members = page.locator("#memberships-group")
    expect(members).to_contain_text("Helena Admin")
    expect(members).to_contain_text("helena.admin@acme.example")
    expect(members).not_to_contain_text("sr-64b7")

    page.goto("/admin/companies/membership/")
    screens.take(page, "memberships")
    expect(page.locator("#result_list")).to_contain_text("Helena Admin")
    expect(page.locator("#result_list")).to_contain_text("helena.admin@acme.example")
    expect(page.locator("#result_list")).not_to_contain_text("sr-64b7")
    assert Membership.objects.get().user.username.startswith("sr-")


def test_a_new_schedule_pins_the_host_key_fetched_from_the_add_form(
    operator_page, screens, acme, sftp_server
):
    page = operator_page
    page.goto("/admin/scheduler/schedule/add/")
    page.locator("#id_company").select_option(label="Acme Demo")
    page.locator("#id_name").fill("nightly")
    page.locator("#id_cron").fill("0 2 * * *")
    page.locator("#id_run_as_email").fill("admin@acme.example")
    page.locator("#id_sftp_host").fill(sftp_server.host)
    page.locator("#id_sftp_port").fill(str(sftp_server.port))
    page.locator("#id_sftp_username").fill(sftp_server.username)
    page.locator("#id_sftp_password").fill(sftp_server.password)
    page.locator("#id_file_path").fill("/in/users.csv")
    page.locator("#id_log_dir").fill("/logs")
    page.locator("#id_log_prefix").fill("users")

    page.get_by_role("button", name="Fetch the host key").click()

    fingerprint = parse_host_keys(sftp_server.host_key)[0].fingerprint
    expect(page.locator(".host-key-fingerprint")).to_have_text(fingerprint)
    screens.take(page, "host key fetched")
    expect(page.locator("#id_host_key")).to_have_value("")  # not before it is confirmed
    page.get_by_role("button", name="The fingerprint matches: pin this key").click()
    expect(page.locator("#id_host_key")).to_have_value(sftp_server.host_key)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screens.take(page, "saved")
    schedule = Schedule.objects.get()
    assert (schedule.enabled, schedule.host_key) == (True, sftp_server.host_key)
    assert schedule.sftp_password == sftp_server.password
