"""All or nothing on the upload page: a file with one bad row sends nothing at all, with a real
worker and the emulator counting every call it receives."""

from __future__ import annotations

from html import escape

import pytest
from django.urls import reverse

from imports.models import ImportRow, ImportRun
from tests.web.conftest import wait_for
from tests.web.test_runs_live import csv_rows, new_people, upload, users_file

pytestmark = pytest.mark.integration

MESSAGE = "Nothing was applied because 1 row has errors; fix them or turn off 'all or nothing'."


def ended(run_id: int) -> ImportRun:
    wait_for(
        lambda: ImportRun.objects.filter(pk=run_id, finished_at__isnull=False).exists(),
        f"run {run_id} to end",
    )
    return ImportRun.objects.get(pk=run_id)


def three_new_people_and_a_duplicate() -> bytes:
    people = new_people(3)
    return users_file([*people, {**people[0], "lastName": "Again"}])


def test_the_upload_form_offers_all_or_nothing_off(acme_browser):
    content = acme_browser.get(reverse("imports:new")).content.decode()

    assert 'name="all_or_nothing"' in content
    assert 'id="id_all_or_nothing" checked' not in content
    assert "Apply only if the whole file is valid" in content


def test_with_all_or_nothing_a_duplicate_row_stops_every_row(acme_browser, emulator, celery_worker):
    emulator.clear_stats()

    run_id = upload(
        acme_browser, three_new_people_and_a_duplicate(), preview=False, all_or_nothing="on"
    )
    run = ended(run_id)
    page = acme_browser.get(reverse("imports:run", args=[run_id])).content.decode()
    log = csv_rows(acme_browser.get(reverse("imports:log", args=[run_id])).content)

    assert emulator.writes() == {}
    assert emulator.user("new.person0@acme.example") is None
    assert (run.status, run.result, run.error) == ("failed", "X", MESSAGE)
    assert run.rows_done == run.rows_total == 4
    assert run.rows_skipped == 3
    rows = ImportRow.objects.filter(run=run).order_by("line")
    assert [row.status for row in rows] == ["skipped", "skipped", "skipped", "error"]
    assert not any(row.transient for row in rows)
    assert page.index(escape(MESSAGE)) < page.index("Rows by action")
    assert "Retry failed rows" not in page
    assert [line[5] for line in log[1:]] == ["ERROR"] * 4
    assert log[1][6].endswith(
        "Not sent: nothing was applied because 1 row has errors; fix them or turn off "
        "'all or nothing'."
    )


def test_without_all_or_nothing_the_valid_rows_are_applied(acme_browser, emulator, celery_worker):
    emulator.clear_stats()

    run_id = upload(
        acme_browser, three_new_people_and_a_duplicate(), preview=False, all_or_nothing=""
    )
    run = ended(run_id)

    assert (run.status, run.result) == ("finished", "X")
    assert emulator.stats()["create_attempts_by_email"] == {
        f"new.person{i}@acme.example": 1 for i in range(3)
    }
    assert emulator.user("new.person0@acme.example")["lastName"] == "Person 0"


def test_a_preview_with_all_or_nothing_and_errors_cannot_be_applied(
    acme_browser, emulator, celery_worker
):
    run_id = upload(
        acme_browser, three_new_people_and_a_duplicate(), preview=True, all_or_nothing="on"
    )
    wait_for(lambda: ImportRun.objects.filter(pk=run_id, status="planned").exists(), "the preview")
    emulator.clear_stats()
    preview = acme_browser.get(reverse("imports:run", args=[run_id])).content.decode()

    # Apply posted anyway (an old page, a script): the service refuses it the same way.
    acme_browser.post(reverse("imports:apply", args=[run_id]))
    run = ended(run_id)
    page = acme_browser.get(reverse("imports:run", args=[run_id])).content.decode()

    assert '"All or nothing" is on and 1 row has errors' in preview
    assert ">Apply</button>" not in preview
    assert emulator.writes() == {}
    assert (run.status, run.error, run.dry_run) == ("failed", MESSAGE, False)
    assert escape(MESSAGE) in page
    assert "being sent to SmartRecruiters" not in page


def test_all_or_nothing_with_a_valid_file_applies_it(acme_browser, emulator, celery_worker):
    run_id = upload(acme_browser, users_file(new_people(2)), preview=False, all_or_nothing="on")
    run = ended(run_id)

    assert (run.status, run.result) == ("finished", "V")
    assert emulator.user("new.person1@acme.example") is not None
