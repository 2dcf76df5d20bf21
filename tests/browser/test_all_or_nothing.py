"""All or nothing in the browser: ticked on the upload page, a file with errors applies nothing
and the run page says why at the top; its preview offers no Apply."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.checks import assert_accessible
from tests.imports.runs.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# errors.csv has 12 rows, 11 of them with errors; the one fine row would create x9@acme.example.
MESSAGE = "Nothing was applied because 11 rows have errors; fix them or turn off 'all or nothing'."


def upload_all_or_nothing(page: Page, *, preview: bool) -> None:
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(SAMPLES / "errors.csv"))
    page.get_by_label("Preview before applying").set_checked(preview)
    page.get_by_label("All or nothing").check()
    page.get_by_role("button", name="Upload").click()


def test_a_file_with_errors_applies_nothing_and_the_page_says_why(
    admin_page, screens, emulator, celery_worker
):
    page = admin_page
    page.goto("/imports/new/")
    expect(page.get_by_label("All or nothing")).not_to_be_checked()
    emulator.clear_stats()

    upload_all_or_nothing(page, preview=False)

    alert = page.locator("#all-or-nothing")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(MESSAGE)
    expect(page.get_by_role("img", name="X: at least one error")).to_be_visible()
    screens.take(page, "nothing applied")
    assert_accessible(page, page.get_by_role("link", name="Download the failed rows"))
    # The message comes before everything else the run page says about the rows.
    top = page.locator("#all-or-nothing").bounding_box()
    counts = page.get_by_role("heading", name="Rows by action").bounding_box()
    assert top is not None
    assert counts is not None
    assert top["y"] < counts["y"]
    expect(page.locator("#outcome-words")).to_contain_text("Done: 0 created, 0 updated")
    expect(page.locator("#outcome-words")).to_contain_text("11 in the file")
    expect(page.locator("#outcome-words")).to_contain_text("1 not sent")
    expect(page.get_by_role("button", name="Retry failed rows")).to_have_count(0)
    assert emulator.writes() == {}
    assert emulator.user("x9@acme.example") is None


def test_a_preview_with_errors_offers_no_apply(admin_page, screens, emulator, celery_worker):
    page = admin_page

    upload_all_or_nothing(page, preview=True)

    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    note = page.locator("#all-or-nothing")
    expect(note).to_contain_text('"All or nothing" is on and 11 rows have errors')
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    screens.take(page, "preview")
    assert_accessible(page, page.get_by_role("button", name="Discard"))
