"""Full sync in the browser: a truncated HR file uploaded with "Deactivate them" holds its
deactivations; the admin reads the banner, clicks Allow, and sees them done."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from imports.models import ImportRun
from tests.browser.checks import assert_accessible
from tests.fixtures.companies import PROTECTED as ALICE
from tests.fixtures.companies import connect_acme_for_full_sync
from tests.imports.runs.files import DOMAIN, csv_bytes, person

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def acme(emulator, transactional_db):
    return connect_acme_for_full_sync(emulator)


def test_a_truncated_file_holds_its_deactivations_until_the_admin_allows_them(
    admin_page, screens, emulator, celery_worker, tmp_path: Path
):
    page = admin_page
    truncated = tmp_path / "hr-export.csv"
    truncated.write_bytes(csv_bytes([person(i) for i in range(5)]))

    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(truncated))
    page.get_by_label("Deactivate them").check()
    page.get_by_label("Preview before applying").uncheck()
    screens.take(page, "deactivate them")
    assert_accessible(page, page.get_by_role("button", name="Upload"))
    page.get_by_role("button", name="Upload").click()

    banner = page.locator("#held")
    expect(banner).to_contain_text(
        "55 people are not in this file; the limit is 10. Nothing was deactivated. Check the "
        "file, then allow these deactivations.",
        timeout=60_000,
    )
    expect(page.get_by_role("img", name="X: at least one error")).to_be_visible()
    expect(page.locator("#left-alone")).to_contain_text("protected addresses (1)")
    screens.take(page, "held")
    allow = page.get_by_role("button", name="Allow these deactivations")
    assert_accessible(page, allow)
    assert emulator.user(f"user00042@{DOMAIN}")["active"]

    allow.click()

    expect(page.get_by_role("img", name="V: no errors")).to_be_visible(timeout=60_000)
    expect(page.locator("#held")).to_have_count(0)
    page.get_by_role("link", name="Not in the file").click()
    page.wait_for_url("**?show=deactivate")
    rows = page.locator("#rows tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Deactivated: not in the file.")
    expect(rows.first.locator("td").first).to_have_text("—not in the file")
    screens.take(page, "deactivated")
    run = ImportRun.objects.get()
    assert (run.result, run.held) == ("V", 0)
    assert not any(emulator.user(f"user{i:05d}@{DOMAIN}")["active"] for i in range(5, 60))
    assert emulator.user(ALICE)["active"]
    assert emulator.user("admin@acme.example")["active"]
