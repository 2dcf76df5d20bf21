"""Storage follows the change: an ended run keeps only the rows that changed something or failed
(its unchanged ones are read back from its log), and runs past the retention are deleted."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from imports import logs
from imports.models import ImportRow, ImportRun
from imports.planner import Action, PlannedRow
from imports.selectors import run_document
from imports.services import control, progress, retention
from scheduler.models import ScheduleFire
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import make_users
from tests.imports.runs.conftest import import_json, write_file
from tests.imports.runs.files import DOMAIN, bulk_state, person
from tests.scheduler.conftest import make_schedule
from tests.web.conftest import wait_for
from user2smart.companies.models import Company, Membership
from user2smart.companies.services import company_save

PEOPLE = 2000
UPDATED = [i for i in range(PEOPLE) if i % 100 == 50]  # 20 rows that change something
BROKEN = [i for i in range(PEOPLE) if i % 400 == 7]  # 5 rows with an error
UNCHANGED_MESSAGE = "Already up to date: nothing to send."
TABLE_LINE = re.compile(r'<tr(?: class="row-error")?>\s*<td>(\d+)</td>')
USER_IDS = [user["id"] for user in make_users(PEOPLE, DOMAIN)]


def line_of(i: int) -> int:
    return i + 2  # the header is line 1


def people_rows() -> list[dict]:
    rows = []
    for i in range(PEOPLE):
        if i in UPDATED:
            rows.append(person(i, lastName=f"Renamed {i}"))
        elif i in BROKEN:
            rows.append(person(i, languageCode="klingon"))
        else:
            rows.append(person(i))
    return rows


def expected_action(i: int) -> str:
    return "update" if i in UPDATED else "error" if i in BROKEN else "unchanged"


def test_a_log_reads_back_as_it_was_written():
    written = [
        logs.LogLine(2, "ann@x.example", "Ann", "Lee", "unchanged", "OK", UNCHANGED_MESSAGE, "a1"),
        logs.LogLine(3, "=cmd@x.example", "+Bo", "-Ray", "update", "OK", "@sum(A1)", ""),
        logs.LogLine(4, "cy@x.example", "Cy", "Ng", "error", "ERROR", "Cy Ng: said twice", ""),
        logs.LogLine(5, "dee@x.example", "", "", "unchanged", "OK", "", ""),
    ]
    out = io.BytesIO()
    logs.write_log(out, written)

    read = logs.read_log(out.getvalue())

    assert read[:2] == written[:2]
    assert (read[2].message, read[3]) == ("said twice", written[3])
    again = io.BytesIO()
    logs.write_log(again, read)
    assert again.getvalue() == out.getvalue()
    assert logs.read_log(b"line,email\r\n2,a@x.example\r\n") == []


@pytest.fixture
def big_acme(emulator, transactional_db) -> Company:
    """Acme with the 2,000 people of the file, limits raised so the run is quick."""
    emulator.reset(bulk_state(existing=PEOPLE, rps=200))
    return connect_acme(emulator, rps=200)


def sync_2000(tmp_path: Path) -> tuple[ImportRun, dict]:
    """The nightly sync of 2,000 people, 20 of them changed: ended, and folded."""
    code, document = import_json(str(write_file(tmp_path, people_rows())), "--company", "acme")
    assert code == 1, document  # the 5 broken rows
    run = ImportRun.objects.get(pk=document["run"])
    assert (run.rows_total, run.count_unchanged) == (PEOPLE, PEOPLE - 25)
    wait_for(
        lambda: ImportRun.objects.get(pk=run.pk).rows_folded == run.count_unchanged,
        "the run's unchanged rows to be folded",
    )
    run.refresh_from_db()
    return run, document


@pytest.mark.integration
def test_an_ended_run_keeps_only_the_rows_that_changed_or_failed(
    big_acme, emulator, celery_worker, tmp_path
):
    run, _ = sync_2000(tmp_path)

    kept = set(ImportRow.objects.filter(run=run).values_list("line", flat=True))
    assert kept == {line_of(i) for i in UPDATED + BROKEN}
    assert run.rows_folded == PEOPLE - 25 == run.count_unchanged
    assert (run.rows_total, run.rows_done, run.count_update, run.count_error) == (2000, 2000, 20, 5)
    assert emulator.user(f"user00050@{DOMAIN}")["lastName"] == "Renamed 50"
    # The log still has every line: the download is unchanged.
    assert len(logs.read_log(bytes(run.log_csv))) == PEOPLE


@pytest.mark.integration
def test_the_json_document_of_a_folded_run_has_every_line(
    big_acme, emulator, celery_worker, tmp_path
):
    run, printed = sync_2000(tmp_path)

    document = run_document(run)

    rows = document["rows"]
    assert [row["line"] for row in rows] == [line_of(i) for i in range(PEOPLE)]
    assert [row["action"] for row in rows] == [expected_action(i) for i in range(PEOPLE)]
    unchanged = rows[3]
    assert unchanged == {
        "line": 5,
        "email": f"user00003@{DOMAIN}",
        "action": "unchanged",
        "status": "done",
        "result": "OK",
        "message": UNCHANGED_MESSAGE,
        "changes": {},
        "errors": [],
        "smartRecruitersId": USER_IDS[3],
    }
    assert rows[50]["changes"] == {"lastName": ["Number 50", "Renamed 50"]}
    assert rows[7]["result"] == "ERROR"
    assert rows[7]["errors"][0]["column"] == "languageCode"
    # What `import_users --json` printed as the run ended (folded or not yet) is the same.
    assert printed["rows"] == rows


@pytest.mark.integration
def test_the_run_page_of_a_folded_run_lists_every_line(
    big_acme, emulator, celery_worker, tmp_path, django_user_model
):
    run, _ = sync_2000(tmp_path)
    browser = Client()
    person_ = django_user_model.objects.create_user(username="hr", password="x")
    Membership.objects.create(user=person_, company=big_acme)
    browser.force_login(person_)

    with mock.patch.object(logs, "read_log", autospec=True, side_effect=logs.read_log) as reads:
        first = browser.get(reverse("imports:run", args=[run.pk])).content.decode()
    second = browser.get(reverse("imports:run", args=[run.pk]) + "?page=2").content.decode()
    unchanged_last = browser.get(
        reverse("imports:rows", args=[run.pk]) + "?show=unchanged&page=40"
    ).content.decode()
    errors = browser.get(reverse("imports:run", args=[run.pk]) + "?show=errors").content.decode()

    assert reads.call_count == 1  # the log is read once a request
    assert "Rows of the file: 2000 shown in 40 pages" in first
    assert table_lines(first) == [line_of(i) for i in range(50)]
    assert first.count(UNCHANGED_MESSAGE) == 49
    assert "Unchanged rows are listed from the log" in first
    assert table_lines(second) == [line_of(i) for i in range(50, 100)]
    assert '<span class="new">Renamed 50</span>' in second
    assert f"user00099@{DOMAIN}" in second
    assert "Rows of the file: 1975 shown in 40 pages" in unchanged_last
    assert table_lines(unchanged_last)[-1] == line_of(PEOPLE - 1)
    assert len(table_lines(unchanged_last)) == 25
    assert "Rows of the file: 5 shown in 1 page" in errors
    assert table_lines(errors) == [line_of(i) for i in BROKEN]


def table_lines(page: str) -> list[int]:
    """The line numbers in the rows table of a page, in order."""
    return [int(line) for line in TABLE_LINE.findall(page)]


# Without a worker: runs made as the services leave them.


@pytest.fixture
def company(db) -> Company:
    return company_save(
        slug="fold", name="Fold Ltd", api_url="http://127.0.0.1:9", api_key="k"
    ).company


def ended_run(
    company: Company, *, unchanged: int, updated: int = 0, skipped: int = 0, **values
) -> ImportRun:
    """A run ended by `run_finish` (log written, nothing folded yet): its first `updated` rows
    updates, then `skipped` updates not sent (transient, to retry), then unchanged rows."""
    total = updated + skipped + unchanged
    run = ImportRun.objects.create(
        company=company,
        source=values.pop("source", ImportRun.Source.UPLOAD),
        status=ImportRun.Status.CANCELLED if skipped else ImportRun.Status.RUNNING,
        rows_total=total,
        rows_done=total,
        rows_skipped=skipped,
        count_unchanged=unchanged,
        count_update=updated + skipped,
        **values,
    )
    rows = []
    for k in range(total):
        line = k + 2
        row = ImportRow(
            run=run,
            line=line,
            email=f"p{line}@fold.example",
            first_name="Pat",
            last_name=f"Line {line}",
            action=ImportRow.Action.UNCHANGED,
            status=ImportRow.Status.DONE,
            message=UNCHANGED_MESSAGE,
            sr_user_id=f"id{line}",
        )
        if k < updated + skipped:
            row.action, row.message = ImportRow.Action.UPDATE, "Last name: A -> B."
        if updated <= k < updated + skipped:
            planned = PlannedRow(
                line, row.email, "Pat", row.last_name, Action.UPDATE, row.sr_user_id
            )
            row.status, row.transient = ImportRow.Status.SKIPPED, True
            row.message, row.payload = "Not sent: cancelled.", json.dumps(planned.to_json())
        rows.append(row)
    ImportRow.objects.bulk_create(rows)
    assert progress.run_finish(run_id=run.pk)
    run.refresh_from_db()
    return run


def rows_left(run: ImportRun) -> int:
    return ImportRow.objects.filter(run=run).count()


def test_a_fold_cut_short_is_completed_by_the_next_one(company, monkeypatch):
    run = ended_run(company, unchanged=25, updated=2)
    monkeypatch.setattr(retention, "BATCH", 10)
    real_lock = retention._lock_ended
    calls = []

    def crash_on_second_batch(run_id: int, *, log_written: bool) -> bool:
        calls.append(run_id)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_lock(run_id, log_written=log_written)

    with (
        mock.patch.object(
            retention, "_lock_ended", autospec=True, side_effect=crash_on_second_batch
        ),
        pytest.raises(RuntimeError),
    ):
        retention.run_fold(run_id=run.pk)

    run.refresh_from_db()
    assert (run.rows_folded, rows_left(run)) == (10, 17)
    assert retention.runs_fold_pending() == 15
    run.refresh_from_db()
    assert (run.rows_folded, rows_left(run)) == (25, 2)
    assert retention.runs_fold_pending() == 0
    assert [row["line"] for row in run_document(run)["rows"]] == list(range(2, 29))


def test_a_run_ended_again_after_folding_keeps_every_line_in_its_log(company):
    run = ended_run(company, unchanged=12, skipped=1)
    first_log = bytes(run.log_csv)
    assert retention.run_fold(run_id=run.pk) == 12

    assert control.run_retry_failed(run_id=run.pk) == 1
    assert retention.run_fold(run_id=run.pk) == 0  # open again: left alone
    ImportRow.objects.filter(run=run, line=2).update(status=ImportRow.Status.DONE, message="Done.")
    ImportRun.objects.filter(pk=run.pk).update(rows_done=13)
    assert progress.run_finish(run_id=run.pk)

    run.refresh_from_db()
    lines = logs.read_log(bytes(run.log_csv))
    assert [line.line for line in lines] == list(range(2, 15))
    assert (lines[0].result, lines[0].message) == ("OK", "Done.")
    assert bytes(run.log_csv).split(b"\r\n")[2:] == first_log.split(b"\r\n")[2:]
    assert [row["line"] for row in run_document(run)["rows"]] == list(range(2, 15))


@pytest.mark.integration
def test_a_preview_is_not_folded(bulk_acme, tmp_path):
    path = write_file(tmp_path, [person(i) for i in range(3)], name="preview.csv")
    code, document = import_json(str(path), "--company", "acme", "--dry-run")
    assert code == 0, document
    run_id = document["run"]
    assert ImportRun.objects.get(pk=run_id).count_unchanged == 3

    assert retention.run_fold(run_id=run_id) == 0
    assert retention.runs_fold_pending() == 0
    assert control.run_discard(run_id=run_id)
    assert retention.run_fold(run_id=run_id) == 0
    assert retention.runs_fold_pending() == 0

    run = ImportRun.objects.get(pk=run_id)
    assert run.rows_folded == 0
    assert ImportRow.objects.filter(run=run).count() == run.rows_total


def age(run: ImportRun, days: int) -> None:
    ImportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_retention_deletes_old_runs_with_their_rows_and_keeps_new_ones(
    company, settings, monkeypatch
):
    settings.IMPORT_KEEP_RUNS_DAYS = 400
    monkeypatch.setattr(retention, "BATCH", 3)
    old = ended_run(company, unchanged=4, updated=6)
    new = ended_run(company, unchanged=4, updated=6)
    age(old, 401)
    age(new, 399)

    with CaptureQueriesContext(connection) as queries:
        assert retention.runs_purge_old() == 1

    assert not ImportRun.objects.filter(pk=old.pk).exists()
    assert not ImportRow.objects.filter(run_id=old.pk).exists()
    assert ImportRun.objects.filter(pk=new.pk).exists()
    assert rows_left(new) == 10
    assert retention.runs_purge_old() == 0
    # The rows went first, 3 a statement (BATCH), not in one statement with their run.
    table = ImportRow._meta.db_table
    row_deletes = [
        query["sql"]
        for query in queries
        if query["sql"].startswith("DELETE FROM") and f'"{table}"."id" IN' in query["sql"]
    ]
    assert len(row_deletes) == 4


def test_retention_keeps_a_schedules_last_run_and_the_fires_of_those_it_deletes(company, settings):
    settings.IMPORT_KEEP_RUNS_DAYS = 400
    schedule = make_schedule(company)
    scheduled = {"source": ImportRun.Source.SCHEDULE, "file_name": "users.csv"}
    older = ended_run(company, unchanged=3, **scheduled)
    last = ended_run(company, unchanged=3, **scheduled)
    age(older, 500)
    age(last, 450)  # the file has not changed since: every fire after it was skipped
    for days, run in ((500, older), (450, last)):
        ScheduleFire.objects.create(
            schedule=schedule,
            scheduled_for=timezone.now() - timedelta(days=days),
            outcome=ScheduleFire.Outcome.STARTED,
            run=run,
            finished_at=timezone.now() - timedelta(days=days),
        )

    assert retention.runs_purge_old() == 1

    assert not ImportRun.objects.filter(pk=older.pk).exists()
    assert ImportRun.objects.filter(pk=last.pk).exists()
    fires = ScheduleFire.objects.filter(schedule=schedule).order_by("scheduled_for")
    assert [fire.run_id for fire in fires] == [None, last.pk]
    assert fires[0].outcome == ScheduleFire.Outcome.STARTED


def test_retention_discards_then_deletes_a_preview_left_waiting(company, settings):
    settings.IMPORT_KEEP_RUNS_DAYS = 400
    preview = ImportRun.objects.create(
        company=company,
        source=ImportRun.Source.UPLOAD,
        status=ImportRun.Status.PLANNED,
        dry_run=True,
        rows_total=1,
        rows_done=1,
        count_unchanged=1,
    )
    ImportRow.objects.create(run=preview, line=2, action="unchanged", status="done")
    recent = ImportRun.objects.create(
        company=company, source=ImportRun.Source.UPLOAD, status=ImportRun.Status.PLANNED
    )
    age(preview, 401)

    assert retention.runs_purge_old() == 1

    assert not ImportRun.objects.filter(pk=preview.pk).exists()
    assert ImportRun.objects.get(pk=recent.pk).status == ImportRun.Status.PLANNED
