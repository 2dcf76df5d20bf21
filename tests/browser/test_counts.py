"""What a run's pages say, in the browser: how far the check of a file is, what a preview will
do (the role and groups a new user gets), counts that agree (done, processed, errors) on the
run page and in the History, and the export page saying what it is doing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible
from tests.browser.test_imports import upload
from tests.fixtures.emulator import acme_company, default_state, make_users
from tests.imports.runs.conftest import SAMPLES
from tests.imports.runs.files import csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_a_long_check_says_how_many_rows_are_checked_and_users_read(
    admin_page, screens, emulator, celery_worker, tmp_path: Path
):
    page = admin_page
    users = make_users(40, domain="acme.example")
    emulator.reset(default_state(acme=acme_company(users=acme_company()["users"] + users)))
    emulator.faults(latency_ms=300)  # each user read in full (for the location) takes a while
    rows = [
        {
            "email": user["email"],
            "firstName": "User",
            "lastName": user["lastName"],
            "systemRoleId": "EMPLOYEE",
            "languageCode": "en",
            "active": "true",
            "enabled": "true",
            "countryCode": "FR",
            "city": "Lyon",
        }
        for user in users
    ]
    file = tmp_path / "locations.csv"
    file.write_bytes(csv_bytes(rows))
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(file))
    page.get_by_label("Update", exact=True).check()
    page.get_by_role("button", name="Upload").click()

    checking = page.locator("#check-text")
    expect(checking).to_have_text(
        re.compile(r"\d+ of 40 rows checked \(\d+%\) · 44 users read from SmartRecruiters"),
        timeout=60_000,
    )
    screens.take(page, "checking")
    expect(page.get_by_role("heading", name="What will happen")).to_be_visible(timeout=60_000)
    screens.take(page, "preview")


def test_a_preview_says_what_will_happen_and_names_a_new_user_s_role_and_groups(
    admin_page, screens, celery_worker
):
    page = admin_page
    upload(page, "users-basic.csv")

    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    screens.take(page, "preview")
    rows = page.locator("#rows tbody tr")
    tomasz = rows.filter(has_text="new.hire2@acme.example")
    expect(tomasz.locator("td").nth(4)).to_have_text("Will create")
    expect(tomasz).to_contain_text(
        "Role: Hiring Manager. Access groups: Engineering, Product management."
    )
    expect(rows.filter(has_text="alice.martin@acme.example").locator("td").nth(4)).to_have_text(
        "Will update"
    )
    expect(rows.filter(has_text="bob.keller@acme.example").locator("td").nth(4)).to_have_text(
        "No change"
    )
    expect(page.locator("#rows thead")).to_contain_text("What will happen")
    expect(page.locator("#rows")).not_to_contain_text("OK")


def test_errors_make_the_x_and_the_counts_agree_on_the_run_page_and_in_the_history(
    admin_page, screens, celery_worker
):
    page = admin_page
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(SAMPLES / "errors.csv"))
    page.get_by_label("Preview before applying").uncheck()
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("img", name="X: at least one error")).to_be_visible(timeout=60_000)
    screens.take(page, "ended with errors")
    # 1 row done of 12: the bar is not full because 11 rows were processed with errors.
    expect(page.locator("#final-progress")).to_have_attribute("value", "1")
    expect(page.locator("#final-progress-text")).to_contain_text(
        "1 of 12 rows done (8%) · 12 of 12 processed"
    )
    expect(page.locator("#outcome")).to_contain_text("11 with errors")
    expect(page.locator("#outcome-words")).to_have_text(
        "Done: 1 created, 0 updated, 0 unchanged. With errors: 11 in the file, "
        "0 refused or failed when sent, 0 not sent."
    )

    page.get_by_role("link", name="History").first.click()
    entry = page.locator("tbody tr").first
    headers = page.locator("thead th").all_inner_texts()
    cells = dict(zip(headers, entry.locator("td").all_inner_texts(), strict=True))
    screens.take(page, "history")
    assert_accessible(page, entry.get_by_role("link"))
    assert (cells["Result"], cells["Done"], cells["Errors"]) == ("X", "1", "11")


def test_the_export_page_says_it_is_reading_users_not_waiting_to_start(
    admin_page, screens, emulator, start_worker
):
    page = admin_page
    users = acme_company()["users"] + make_users(150, domain="acme.example")
    emulator.reset(default_state(acme=acme_company(users=users)))
    emulator.faults(latency_ms=100)
    page.goto("/export/")
    page.get_by_label("Complete (add each user's location)").check()
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_text("Waiting for a worker to start the export")).to_be_visible()

    start_worker()  # the export is taken while its page is open

    expect(page.locator("#export-progress-text")).to_have_text(
        re.compile(r"Reading (the users from SmartRecruiters: \d+ read so far|locations: \d+ of)"),
        timeout=60_000,
    )
    screens.take(page, "reading users")
    expect(page.locator("main")).not_to_contain_text("Waiting")
