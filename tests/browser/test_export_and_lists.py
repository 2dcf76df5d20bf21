"""Export users and the Roles & groups page, in the browser."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from imports.csvfile import COLUMNS
from tests.browser.checks import assert_accessible, tab_presses_to

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HIRING_MANAGER_ID = "64b7f0c2a1d3e4f5a6b7c8d9"


def test_the_small_export_downloads_acme_s_users_in_the_import_format(
    admin_page, screens, emulator
):
    page = admin_page
    page.goto("/export/")
    export = page.get_by_role("button", name="Export")
    screens.take(page, "export")
    assert_accessible(page, export)
    expect(page.get_by_label("Complete (add each user's location)")).not_to_be_checked()

    with page.expect_download() as download_info:
        export.click()

    download = download_info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert download.suggested_filename.startswith("acme-users-")
    assert rows[0] == list(COLUMNS)
    assert len(rows[0]) == 19
    emails = sorted(row[0] for row in rows[1:])
    assert emails == sorted(user["email"] for user in emulator.users())
    erin = next(row for row in rows[1:] if row[0] == "admin@acme.example")
    assert (erin[1], erin[2], erin[3]) == ("Erin", "Admin", "ADMINISTRATOR")


def test_roles_and_groups_are_listed_with_ids_copied_by_keyboard(admin_page, screens):
    page = admin_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/lists/")

    roles = page.get_by_role("region", name="System roles")
    groups = page.get_by_role("region", name="Access groups")
    hiring_manager = roles.get_by_role("row", name="Hiring Manager")
    copy = hiring_manager.get_by_role("button", name="Copy the id of Hiring Manager")
    screens.take(page, "roles and groups")
    assert_accessible(page, copy)
    expect(roles.get_by_role("row")).to_have_count(7)  # the header and six roles
    expect(hiring_manager.get_by_role("cell").nth(1)).to_have_text(HIRING_MANAGER_ID)
    expect(groups.get_by_role("row", name="Engineering")).to_contain_text(
        "60497fe33e2b74a609b7e412"
    )

    assert tab_presses_to(page, copy) is not None
    page.keyboard.press("Enter")

    expect(copy).to_have_text("Copied")
    expect(page.locator("#copy-status")).to_have_text(f"Copied {HIRING_MANAGER_ID}")
    screens.take(page, "copied")
    assert page.evaluate("navigator.clipboard.readText()") == HIRING_MANAGER_ID
