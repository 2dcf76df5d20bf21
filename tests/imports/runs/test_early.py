"""Early writes: an import's updates start while the directory is still being read.

Real runs against the emulator (`import_users` in a child process, real worker processes), and
the plan's service called in this process where a test stands in for a worker that died.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db.models import Count

from imports import services
from imports.models import ImportRow, ImportRun
from imports.planner.planning import CHANGED_OUTSIDE
from imports.rows import RejectedRow, RowError, UserRow
from imports.services import planning, queue
from imports.services.early import EarlyWrites, early_candidates
from tests.fixtures.companies import connect_acme
from tests.imports.runs.conftest import assert_every_row_final, import_json, write_file
from tests.imports.runs.files import DOMAIN, bulk_state, csv_bytes, person

pytestmark = pytest.mark.integration

PATCH = "PATCH /users/{id}"


@pytest.fixture
def pages(emulator, transactional_db):
    """Acme with 250 bulk users: its list takes three pages."""
    emulator.reset(bulk_state(250))
    return connect_acme(emulator, rps=100)


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The rows whose `apply_row` message was sent, in order (no broker: the test works them)."""
    messages: list[int] = []
    monkeypatch.setattr(queue, "rows_send", lambda ids: messages.extend(ids))
    monkeypatch.setattr(queue, "scheduled_run_ended_send", lambda run_id: None)
    monkeypatch.setattr(queue, "run_fold_send", lambda run_id: None)
    return messages


def start(company, rows: list[dict]) -> ImportRun:
    return services.run_start(
        company=company,
        file=io.BytesIO(csv_bytes(rows)),
        file_name="people.csv",
        mode="upsert",
        source=ImportRun.Source.COMMAND,
        enqueue=False,
    )


def work(sent: list[int]) -> None:
    """The workers, as fast as can be: each message sent is applied at once."""
    while sent:
        services.row_apply(row_id=sent.pop(0))


def patches(emulator) -> int:
    """The PATCHes answered (one refused with 429 is sent again after its back-off)."""
    by_status = emulator.stats()["requests"].get(PATCH, {})
    return sum(n for status, n in by_status.items() if status != "429")


def test_updates_are_sent_while_the_list_is_read_and_nothing_twice(
    pages, emulator, celery_worker, tmp_path: Path
):
    renamed = [0, 1, 2, 120, 245]  # on the first, second and last page
    rows = [person(i, lastName=f"Renamed {i}") if i in renamed else person(i) for i in range(250)]
    rows.append(person(900, email="new.hire@acme.example"))
    emulator.faults(latency_ms=[50, 100])  # each page waits, as SmartRecruiters' do
    emulator.clear_stats()

    code, document = import_json(str(write_file(tmp_path, rows)), "--company", "acme")

    assert code == 0, (document, celery_worker.output())
    run = ImportRun.objects.get(pk=document["run"])
    assert (run.count_update, run.count_create, run.count_unchanged) == (5, 1, 245)
    assert_every_row_final(run.pk)
    assert run.planning is False
    updates = run.rows.filter(action=ImportRow.Action.UPDATE)
    assert sorted(updates.values_list("line", flat=True)) == [i + 2 for i in renamed]
    # Queued to the workers before the plan of the whole file was stored.
    assert all(row.queued_at < run.planned_at for row in updates)
    assert run.rows.get(action=ImportRow.Action.CREATE).queued_at > run.planned_at
    assert patches(emulator) == 5
    assert not run.rows.values("line").annotate(n=Count("pk")).filter(n__gt=1).exists()
    for i in renamed:
        assert emulator.user(f"user{i:05d}@{DOMAIN}")["lastName"] == f"Renamed {i}"


def test_a_row_whose_address_another_row_has_waits_for_the_whole_file() -> None:
    def row(line: int, email: str, old: str = "") -> UserRow:
        return UserRow(
            line=line, email=email, first_name="A", last_name="B", system_role_id="EMPLOYEE",
            external_data=None, language_code="en", sso_identifier=None, password=None,
            active=True, enabled=True, country_code=None, region_code=None, region=None,
            city=None, address=None, postal_code=None, access_group_ids=None, send_email=False,
            old_email=old or None,
        )  # fmt: skip

    rejected = RejectedRow(
        line=9,
        email="bad@x.example",
        first_name="",
        last_name="",
        errors=(RowError(9, "", "", ""),),
    )
    rows = [
        row(2, "one@x.example"),
        row(3, "two@x.example"),
        row(4, "renamed@x.example", old="two@x.example"),  # an email change names two@
        row(5, "Three@x.example"),
        row(6, "three@x.example"),  # the same person twice
        row(7, "four@x.example"),
        rejected,
    ]

    candidates = early_candidates(rows, skip={7})

    assert set(candidates) == {"one@x.example"}


def test_a_plan_whose_worker_died_after_its_first_changes_goes_on_from_them(
    pages, emulator, celery_worker
):
    """The first attempt stored and sent line 2 (user 0 renamed), then its worker died: the
    sweeper plans the run again, which stores the other rows once and sends only theirs."""
    rows = [person(0, lastName="Renamed 0"), person(1, lastName="Renamed 1"), person(2)]
    run = start(pages, rows)
    user = emulator.user(f"user00000@{DOMAIN}")
    emulator.call(
        "PATCH",
        f"/users/{user['id']}",
        headers={"Content-Type": "application/json-patch+json"},
        data=json.dumps([{"op": "replace", "path": "/lastName", "value": "Renamed 0"}]),
    ).raise_for_status()
    ImportRow.objects.create(
        run=run, line=2, email=user["email"], action="update", status="done",
        changes={"lastName": ["Number 0", "Renamed 0"]}, sr_user_id=user["id"],
    )  # fmt: skip
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.RUNNING, planning=True, rows_done=1, rows_dispatched=1,
        rows_returned=1,
    )  # fmt: skip
    emulator.clear_stats()

    services.run_plan(run_id=run.pk)

    run.refresh_from_db()
    assert run.rows.filter(line=2).count() == 1
    assert (run.rows_total, run.count_update, run.count_unchanged) == (3, 2, 1)
    assert run.planning is False
    assert_eventually_finished(run)
    assert patches(emulator) == 1  # user 1 only
    assert emulator.user(f"user00001@{DOMAIN}")["lastName"] == "Renamed 1"


def test_a_run_stopped_while_its_file_is_checked_sends_nothing_more_and_ends(
    pages, emulator, transactional_db
):
    rows = [person(0, lastName="Renamed 0"), person(1, lastName="Renamed 1")]
    run = start(pages, rows)
    ImportRow.objects.create(
        run=run, line=2, email=f"user00000@{DOMAIN}", action="update", status="pending",
        payload="{}",
    )  # fmt: skip
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.RUNNING, planning=True)
    assert services.run_cancel(run_id=run.pk) is False  # not while the file is checked
    assert "still being checked" in services.run_cancel_refusal(
        run=ImportRun.objects.get(pk=run.pk)
    )
    services.run_stop(run_id=run.pk, reason="The credential was refused.", status="failed")
    emulator.clear_stats()

    services.run_plan(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.rows_total, run.rows_done, run.rows_skipped) == ("failed", 2, 2, 2)
    assert run.finished_at is not None
    assert set(run.rows.values_list("status", flat=True)) == {ImportRow.Status.SKIPPED}
    assert run.rows.get(line=3).message == "Not sent: the run stopped. The credential was refused."
    assert patches(emulator) == 0


def test_a_preview_and_an_all_or_nothing_run_send_nothing_before_their_plan(
    pages, emulator, celery_worker, tmp_path: Path
):
    rows = [person(0, lastName="Renamed 0"), {"email": "broken"}]
    path = str(write_file(tmp_path, rows))
    emulator.clear_stats()

    preview_code, preview = import_json(path, "--company", "acme", "--dry-run")
    code, refused = import_json(path, "--company", "acme", "--all-or-nothing")

    assert preview["status"] == "planned", (preview_code, preview)
    assert refused["status"] == "failed", (code, refused)
    assert patches(emulator) == 0


def test_the_window_is_topped_up_while_the_file_is_still_checked(bulk_acme, sent, monkeypatch):
    """40 updates on the first page, a window of 16: as rows end, the next are sent, before
    the rest of the plan is stored."""
    run = start(
        bulk_acme, [person(i, lastName=f"R {i}") if i < 40 else person(i) for i in range(150)]
    )
    send = EarlyWrites.send

    def send_then_work(self: EarlyWrites) -> None:
        send(self)
        work(sent)

    monkeypatch.setattr(EarlyWrites, "send", send_then_work)

    services.run_plan(run_id=run.pk)

    run.refresh_from_db()
    updates = list(run.rows.filter(action=ImportRow.Action.UPDATE))
    assert len(updates) == 40
    assert {row.status for row in updates} == {ImportRow.Status.DONE}
    assert all(row.queued_at < run.planned_at for row in updates)
    assert (run.rows_total, run.rows_done, run.finished_at is not None) == (150, 150, True)


def test_a_plan_that_breaks_after_its_first_changes_stops_the_run_which_ends(
    bulk_acme, sent, monkeypatch
):
    run = start(
        bulk_acme, [person(i, lastName=f"R {i}") if i < 40 else person(i) for i in range(150)]
    )

    def time_limit(*args: object) -> None:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(planning, "_plan_file", time_limit)  # once every page is read

    services.run_plan(run_id=run.pk)
    work(sent)

    run.refresh_from_db()
    assert (run.status, run.planning) == (ImportRun.Status.FAILED, False)
    assert run.error == (
        "The check of the file could not be finished (the error is logged). The changes already "
        "sent while the file was checked stay; the other rows were not sent."
    )
    assert run.finished_at is not None
    assert run.rows_total == run.rows_done == 40
    assert_every_row_final(run.pk)


def test_a_user_written_early_is_not_said_changed_outside_on_the_next_run(
    bulk_acme, sent, monkeypatch
):
    monkeypatch.setattr(queue, "rows_send", lambda ids: [services.row_apply(row_id=i) for i in ids])

    def run_file(rows: list[dict]) -> ImportRun:
        run = start(bulk_acme, rows)
        services.run_plan(run_id=run.pk)
        return ImportRun.objects.get(pk=run.pk)

    run_file([person(900)])  # created: a change of ours is expected
    deactivated = run_file([person(900, active="false", enabled="false")])  # early, no answer
    renamed = run_file([person(900, active="false", enabled="false", lastName="Changed")])

    assert deactivated.rows.get().queued_at < deactivated.planned_at
    row = renamed.rows.get()
    assert (row.action, row.status) == (ImportRow.Action.UPDATE, ImportRow.Status.DONE)
    assert CHANGED_OUTSIDE not in row.message


def assert_eventually_finished(run: ImportRun) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished_at is not None:
            assert_every_row_final(run.pk)
            return
        time.sleep(0.1)
    raise AssertionError(
        f"run {run.pk} did not end: {run.status}, {run.rows_done}/{run.rows_total}"
    )
