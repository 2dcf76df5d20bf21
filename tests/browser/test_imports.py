"""Imports in the browser: the size check before upload, the preview that appears by itself,
Apply with its live progress bar, the log download, the row filters, the history."""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from imports.logs import LOG_COLUMNS
from imports.models import ImportRun
from tests.browser.checks import assert_accessible
from tests.imports.runs.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# errors.csv: the line of each error and the column it names (line 11 is fine).
ERROR_COLUMNS = {
    2: "email",
    3: "firstName",
    4: "systemRoleId",
    5: "languageCode",
    6: "active",
    7: "countryCode",
    8: "city",
    9: "countryCode",
    10: "accessGroupId",
    12: "email",
    13: "ssoIdentifier",
}
PROGRESS_TEXT = re.compile(r"^(\d+) of (\d+) rows done \((\d+)%\)")


def upload(page: Page, sample: str) -> None:
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(SAMPLES / sample))
    page.get_by_role("button", name="Upload").click()


def counts(page: Page) -> str:
    """The first "counts" list of the run page, e.g. "4 create 2 update 1 unchanged ..."."""
    return " ".join(page.locator(".counts").first.inner_text().split())


# The bar and its text, read in one go (htmx swaps them every second).
READ_PROGRESS = """() => {
  const bar = document.querySelector("#live progress");
  const text = document.getElementById("progress-text");
  return bar && text ? [bar.getAttribute("value"), bar.getAttribute("max"), text.innerText] : null;
}"""


def watch_progress(page: Page, timeout: float = 60) -> list[tuple[int, int, int]]:
    """Read the progress bar (done, max, the percent its text says) until the result shows.

    The page reloads by itself when the run ends, so a reading may meet a page going away.
    """
    readings: list[tuple[int, int, int]] = []
    result = page.locator(".run-head .result")
    deadline = time.monotonic() + timeout
    while not result.is_visible():
        assert time.monotonic() < deadline, f"no result after {timeout} s: {readings}"
        try:
            found = page.evaluate(READ_PROGRESS)
        except PlaywrightError:
            found = None  # the page was reloading
        if found:
            value, top, text = found
            match = PROGRESS_TEXT.match(text)
            assert match, text
            assert (match[1], match[2]) == (value, top), found
            reading = (int(value), int(top), int(match[3]))
            if not readings or readings[-1] != reading:
                readings.append(reading)
        page.wait_for_timeout(50)
    return readings


def test_a_file_over_the_limit_is_refused_before_it_is_sent(admin_page, screens, settings):
    page = admin_page
    settings.IMPORT_MAX_FILE_BYTES = 100

    upload(page, "users-basic.csv")

    message = page.locator("#id_file_size_error")
    expect(message).to_be_visible()
    assert message.inner_text().startswith("This file is larger than 1 KB")
    screens.take(page, "refused")
    assert_accessible(page, page.get_by_role("button", name="Upload"))
    assert page.url.endswith("/imports/new/")
    assert not ImportRun.objects.exists()


def test_a_previewed_upload_is_applied_with_a_live_progress_bar_and_a_log(
    admin_page, screens, emulator, celery_worker
):
    page = admin_page
    page.goto("/imports/new/")
    screens.take(page, "new import")
    assert_accessible(page, page.get_by_role("button", name="Upload"))
    expect(page.get_by_label("Preview before applying")).to_be_checked()

    upload(page, "users-basic.csv")

    # The page shows "Checking your file" and then, by itself, the plan.
    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    screens.take(page, "preview")
    assert_accessible(page, page.get_by_role("button", name="Apply"))
    assert (
        counts(page) == "4 to create 2 to update 1 unchanged 0 with errors in the file (not sent)"
    )
    alice = page.locator("#rows tbody tr", has_text="alice.martin@acme.example")
    expect(alice).to_contain_text("Update")
    expect(alice.locator(".change")).to_contain_text("Last name:")
    expect(alice.locator(".change .old")).to_have_text("Martin")
    expect(alice.locator(".change .new")).to_have_text("Martin-Durand")
    run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    emulator.faults(latency_ms=600)  # slow enough to read the bar a few times
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Sending to SmartRecruiters")).to_be_visible()
    screens.take(page, "progress")
    readings = watch_progress(page)

    expect(page.get_by_role("img", name="V: no errors")).to_be_visible()
    screens.take(page, "finished")
    assert_accessible(page, page.get_by_role("link", name="Download the log"))
    print(f"Progress bar readings (done, max, percent): {readings}")
    assert readings, "the progress bar was never seen"
    assert {top for _, top, _ in readings} == {7}
    assert [done for done, _, _ in readings] == sorted(done for done, _, _ in readings)
    assert all(percent == 100 * done // top for done, top, percent in readings)
    # The ended run keeps its bar, full.
    expect(page.locator("#final-progress")).to_have_attribute("value", "7")
    expect(page.locator("#final-progress-text")).to_contain_text(
        "7 of 7 rows done (100%) · 7 of 7 processed"
    )
    expect(page.locator("#outcome")).to_have_text(
        re.compile(r"^\s*7\s+of 7 processed\s+7\s+done\s+0\s+with errors\s*$")
    )
    expect(page.locator("#outcome-words")).to_have_text("Done: 4 created, 2 updated, 1 unchanged.")
    assert emulator.user("new.hire1@acme.example")["lastName"] == "Haddad"

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the log").click()
    download = download_info.value
    log = list(csv.reader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    sample = list(csv.DictReader(io.StringIO((SAMPLES / "users-basic.csv").read_text("utf-8"))))

    assert download.suggested_filename == f"user2smart-import-{run_id}-log.csv"
    assert log[0] == list(LOG_COLUMNS)
    assert [(row[0], row[1]) for row in log[1:]] == [
        (str(line), user["email"]) for line, user in enumerate(sample, start=2)
    ]
    assert {row[5] for row in log[1:]} == {"OK"}

    page.get_by_role("link", name="History").first.click()
    entry = page.locator("tbody tr").first
    expect(entry).to_contain_text("users-basic.csv")
    expect(entry.get_by_role("img", name="V: no errors")).to_be_visible()
    screens.take(page, "history")
    assert_accessible(page, entry.get_by_role("link"))


def test_the_errors_of_a_preview_are_shown_by_line_and_column_and_filtered(
    admin_page, screens, celery_worker
):
    page = admin_page
    upload(page, "errors.csv")

    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    screens.take(page, "preview")
    assert_accessible(page, page.get_by_role("button", name="Apply"))
    rows = page.locator("#rows")
    assert (
        counts(page) == "1 to create 0 to update 0 unchanged 11 with errors in the file (not sent)"
    )
    for line, column in ERROR_COLUMNS.items():
        expect(rows).to_contain_text(f"Line {line}, column {column}")
    expect(rows).to_contain_text("Line 5, column languageCode (value klingon)")
    expect(rows).to_contain_text("x9@acme.example")

    page.get_by_role("link", name="Errors only").click()

    page.wait_for_url("**?show=errors")
    expect(rows).not_to_contain_text("x9@acme.example")
    expect(page.get_by_role("link", name="Errors only")).to_have_attribute("aria-current", "true")
    screens.take(page, "errors only")
    expect(rows.locator("tbody tr")).to_have_count(11)
    for line, column in ERROR_COLUMNS.items():
        expect(rows).to_contain_text(f"Line {line}, column {column}")
