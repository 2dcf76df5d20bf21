"""Cancel asks first, saying what it does and does not undo; dismissing the question cancels
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from imports.models import ImportRun
from tests.imports.runs.files import csv_bytes, person

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_cancel_asks_first_and_keeping_the_import_cancels_nothing(
    admin_page, screens, emulator, celery_worker, tmp_path: Path
):
    page = admin_page
    emulator.faults(latency_ms=500)  # long enough to answer the question while it runs
    file = tmp_path / "new-people.csv"
    file.write_bytes(csv_bytes([person(i) for i in range(200)]))
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(file))
    page.get_by_label("Preview before applying").uncheck()
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("heading", name="Sending to SmartRecruiters")).to_be_visible(
        timeout=60_000
    )
    run_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    dialog = page.get_by_role("dialog", name="Cancel this import?")

    page.get_by_role("button", name="Cancel", exact=True).click()

    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Cancel does not undo anything")
    expect(dialog).to_contain_text("the rows already sent stay applied in SmartRecruiters")
    expect(dialog).to_contain_text("they will not be sent")
    expect(dialog.get_by_role("button", name="Keep it running")).to_be_focused()
    screens.take(page, "cancel asks")

    dialog.get_by_role("button", name="Keep it running").click()

    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.keyboard.press("Escape")  # dismissed without a choice
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="Sending to SmartRecruiters")).to_be_visible()
    assert ImportRun.objects.get(pk=run_id).status == ImportRun.Status.RUNNING

    page.get_by_role("button", name="Cancel", exact=True).click()
    dialog.get_by_role("button", name="Cancel the import").click()

    expect(page.get_by_text("This import was cancelled.")).to_be_visible(timeout=60_000)
    screens.take(page, "cancelled")
    assert ImportRun.objects.get(pk=run_id).status == ImportRun.Status.CANCELLED
