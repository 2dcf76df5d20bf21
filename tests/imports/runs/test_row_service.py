"""The row service in this process against the emulator: claim, steps, resume, fencing, waits,
at-most-once email, circuit breaker, the sweeper's take-overs. No worker: messages are caught and
their rows applied here, one by one, so a change to the hand-written SQL of `rowstate.py` is caught
in seconds. `.ci/run` runs this file on PostgreSQL (with the suite) and once more on SQLite.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from imports import services
from imports.models import ImportRow, ImportRun
from imports.planner import PlannedRow, StepKind
from imports.services import queue, rowstate, sweeping
from imports.services.rowstate import RowLost
from tests.imports.runs.files import csv_bytes, person
from user2smart.companies.connection import limiter_for
from user2smart.dbclock import db_now
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import RetryableError

S = ImportRow.Status


@pytest.fixture
def sent(monkeypatch) -> list[int]:
    """The rows whose `apply_row` message was sent, in order (no broker, no worker)."""
    messages: list[int] = []
    monkeypatch.setattr(queue, "rows_send", lambda ids: messages.extend(ids))
    monkeypatch.setattr(queue, "scheduled_run_ended_send", lambda run_id: None)
    return messages


@pytest.fixture
def company(bulk_acme):
    return bulk_acme


def start(company, rows: list[dict]) -> ImportRun:
    run = services.run_start(
        company=company,
        file=io.BytesIO(csv_bytes(rows)),
        file_name="people.csv",
        mode="upsert",
        source=ImportRun.Source.COMMAND,
        enqueue=False,
    )
    services.run_plan(run_id=run.pk)
    return ImportRun.objects.get(pk=run.pk)


def drain(sent: list[int], limit: int = 1000) -> None:
    """Apply every row whose message was sent, as one worker would, until none is left."""
    for _ in range(limit):
        if not sent:
            return
        services.row_apply(row_id=sent.pop(0))
    raise AssertionError("rows kept being sent")


def due_now(run: ImportRun) -> None:
    """Bring every waiting row's time forward, as if its wait were over."""
    ImportRow.objects.filter(run=run, eligible_at__isnull=False).update(
        eligible_at=timezone.now() - timedelta(seconds=1)
    )


def new_people(count: int, start_at: int = 900, **fields: str) -> list[dict]:
    return [person(i, **fields) for i in range(start_at, start_at + count)]


def test_a_run_is_applied_row_by_row_and_finishes(company, emulator, sent):
    emulator.clear_stats()
    run = start(company, new_people(20))
    assert run.status == ImportRun.Status.RUNNING
    assert len(sent) == 16  # the window: 2 x concurrency 8

    drain(sent)

    run.refresh_from_db()
    assert (run.status, run.rows_done, run.rows_failed) == (ImportRun.Status.FINISHED, 20, 0)
    assert run.rows_dispatched == run.rows_returned == 20
    assert set(ImportRow.objects.filter(run=run).values_list("attempts", flat=True)) == {1}
    stats = emulator.stats()
    # One create sent per person (the emulator would refuse a second one with a 409).
    assert set(stats["create_attempts_by_email"].values()) == {1}
    assert len(stats["create_attempts_by_email"]) == 20
    assert stats["create_conflicts_by_email"] == {}


def test_a_duplicate_message_does_nothing(company, sent):
    run = start(company, new_people(1))
    row_id = sent[0]
    sent.append(row_id)

    drain(sent)

    row = ImportRow.objects.get(pk=row_id)
    assert (row.status, row.attempts) == (S.DONE, 1)
    assert ImportRun.objects.get(pk=run.pk).rows_done == 1


def test_a_claim_taken_over_refuses_the_old_workers_writes(company, sent):
    start(company, new_people(1))
    row, _state = rowstate.row_claim(row_id=sent.pop())
    # The sweeper gives the row to another attempt (its worker looked dead).
    ImportRow.objects.filter(pk=row.pk).update(status=S.QUEUED, eligible_at=None)
    newer, _ = rowstate.row_claim(row_id=row.pk)
    assert newer.attempts == row.attempts + 1

    with pytest.raises(RowLost):
        rowstate.row_progress(row=row)
    with pytest.raises(RowLost):
        rowstate.row_hand_back(row=row, after=1, failed=True, create_unsent=False)
    assert rowstate.row_end(row=row, status=S.ERROR, message="stale") is None

    ended = rowstate.row_end(row=newer, status=S.DONE, message="ok")
    assert ended is not None
    assert ImportRow.objects.get(pk=row.pk).message == "ok"


def test_a_failing_call_hands_the_row_back_until_the_attempts_run_out(
    company, emulator, sent, settings
):
    settings.IMPORT_ROW_MAX_ATTEMPTS = 3
    run = start(company, new_people(1))
    emulator.faults(error_rate=1.0)

    drain(sent)
    row = ImportRow.objects.get(run=run)
    # Handed back with its wait in the database, no message: nothing left to apply here.
    assert (row.status, row.failures, row.eligible_at is not None) == (S.QUEUED, 1, True)
    assert row.eligible_at > db_now()
    assert services.rows_dispatch_due() == 0  # not due yet

    due_now(run)
    assert services.rows_dispatch_due() == 1
    drain(sent)
    row.refresh_from_db()
    assert (row.status, row.failures) == (S.QUEUED, 2)

    due_now(run)
    assert services.rows_dispatch_due() == 1
    drain(sent)
    row.refresh_from_db()
    run.refresh_from_db()
    assert (row.status, row.transient, row.attempts) == (S.ERROR, True, 3)
    assert (run.status, run.rows_failed) == (ImportRun.Status.FINISHED, 1)

    emulator.faults()
    assert services.run_retry_failed(run_id=run.pk) == 1
    drain(sent)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.failures) == (S.DONE, 4, 0)


def test_a_company_under_a_long_back_off_holds_no_worker(company, emulator, sent):
    run = start(company, new_people(3))
    limiter_for(company).backoff(120)
    emulator.clear_stats()

    drain(sent)

    rows = ImportRow.objects.filter(run=run)
    # Every row came back at once with the back-off's end as its time, and no attempt used.
    assert set(rows.values_list("status", "failures")) == {(S.QUEUED, 0)}
    waits = [(row.eligible_at - db_now()).total_seconds() for row in rows]
    assert all(100 < wait <= 121 for wait in waits), waits
    assert emulator.stats()["requests"] == {}


def test_the_activation_email_is_never_sent_twice(company, emulator, sent, monkeypatch):
    emulator.clear_stats()
    run = start(company, new_people(1, active="true", sendEmail="true"))
    planned = PlannedRow.from_json(json.loads(ImportRow.objects.get(run=run).payload))
    assert StepKind.ACTIVATION_EMAIL in [step.kind for step in planned.steps]

    class WorkerKilled(BaseException):
        pass

    send = SmartRecruitersClient.send_activation_email

    def sent_then_killed(self, user_id):
        send(self, user_id)
        raise WorkerKilled  # the worker dies right after SmartRecruiters sent the email

    monkeypatch.setattr(SmartRecruitersClient, "send_activation_email", sent_then_killed)
    with pytest.raises(WorkerKilled):
        drain(sent)
    monkeypatch.setattr(SmartRecruitersClient, "send_activation_email", send)

    # The sweeper finds the row without progress past the deadline and hands it on.
    ImportRow.objects.filter(run=run).update(updated_at=timezone.now() - timedelta(hours=1))
    assert sweeping.sweep()["sending"] == 1
    drain(sent)

    row = ImportRow.objects.get(run=run)
    assert row.status == S.DONE
    assert "activation email may not have gone out" in row.message
    assert sum(emulator.stats()["activation_emails"].values()) == 1


def test_a_timeout_on_the_activation_email_does_not_send_it_again(
    company, emulator, sent, monkeypatch
):
    emulator.clear_stats()
    run = start(company, new_people(1, active="true", sendEmail="true"))
    send = SmartRecruitersClient.send_activation_email

    def sent_then_timed_out(self, user_id):
        send(self, user_id)  # SmartRecruiters sent it; its answer never came
        raise RetryableError("POST /users/{id}/activation-email timed out (ReadTimeout)")

    monkeypatch.setattr(SmartRecruitersClient, "send_activation_email", sent_then_timed_out)
    drain(sent)

    row = ImportRow.objects.get(run=run)
    assert (row.status, row.attempts) == (S.DONE, 1)
    assert "activation email may not have gone out" in row.message
    assert sum(emulator.stats()["activation_emails"].values()) == 1


def test_removing_a_user_from_a_group_they_left_counts_as_done(company, emulator, sent):
    # user00001 is in no group: a plan made when they were in one removes them again.
    run = start(company, [person(1, lastName="Renamed")])
    row = ImportRow.objects.get(run=run)
    planned = PlannedRow.from_json(json.loads(row.payload))
    payload = planned.to_json()
    payload["steps"].append({"kind": "remove_from_group", "data": "60497fe33e2b74a609b7e410"})
    ImportRow.objects.filter(pk=row.pk).update(payload=json.dumps(payload))

    drain(sent)

    row.refresh_from_db()
    assert row.status == S.DONE, row.message


def test_a_refused_credential_stops_the_run_and_skips_the_rest(company, emulator, sent):
    run = start(company, new_people(30))
    emulator.revoke(api_key=company.api_key)

    drain(sent)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert "refused the company's credential" in run.error
    assert run.finished_at is not None
    assert run.rows_done == run.rows_total == 30
    assert run.rows_dispatched == run.rows_returned
    skipped = ImportRow.objects.filter(run=run, status=S.SKIPPED, transient=True)
    assert skipped.count() == 30


def test_a_row_handed_back_after_a_cancel_still_ends(company, sent):
    # A row that timed out while its run was being cancelled went back to `queued`, and its
    # message was lost: the run must still end.
    run = start(company, new_people(3))
    row, _ = rowstate.row_claim(row_id=sent.pop(0))
    assert services.run_cancel(run_id=run.pk)
    rowstate.row_hand_back(row=row, after=30, failed=True, create_unsent=False)
    sent.clear()  # every message lost

    assert ImportRun.objects.get(pk=run.pk).finished_at is None
    sweeping.sweep()

    run.refresh_from_db()
    assert run.finished_at is not None
    assert run.rows_done == run.rows_total == 3
    assert run.rows_dispatched == run.rows_returned
    row.refresh_from_db()
    # Its attempt may have sent the create before it timed out: said, not guessed.
    assert (row.status, row.message) == (
        S.SKIPPED,
        "Stopped part-way, it may be partly applied in SmartRecruiters: the run was cancelled.",
    )


@pytest.mark.parametrize("skew", [timedelta(minutes=-5), timedelta(minutes=5)])
def test_a_workers_clock_that_is_off_changes_nothing(company, sent, monkeypatch, skew):
    start(company, new_people(1))
    real_now = timezone.now
    # The worker's clock is off: it claims the row...
    monkeypatch.setattr(timezone, "now", lambda: real_now() + skew)
    row, _ = rowstate.row_claim(row_id=sent.pop())
    rowstate.row_progress(row=row)
    # ...and a sweeper whose clock is off the other way looks at it.
    monkeypatch.setattr(timezone, "now", lambda: real_now() - skew)
    found = sweeping.sweep()
    monkeypatch.setattr(timezone, "now", real_now)

    assert found["sending"] == 0
    stored = ImportRow.objects.get(pk=row.pk)
    assert (stored.status, stored.attempts) == (S.SENDING, row.attempts)


def test_waiting_rows_keep_their_place_in_the_window(company, emulator, sent):
    run = start(company, new_people(40))
    emulator.faults(error_rate=1.0)
    drain(sent)
    run.refresh_from_db()
    # 16 rows wait for their retry; they still fill the window, so no new row was queued.
    assert run.rows_dispatched - run.rows_returned == 16
    assert ImportRow.objects.filter(run=run, status=S.PENDING).count() == 24
    assert services.run_dispatch(run_id=run.pk) == 0


def test_a_failed_row_with_a_password_is_not_kept_for_retry(company, emulator, sent, settings):
    settings.IMPORT_ROW_MAX_ATTEMPTS = 1
    run = start(company, new_people(2, password="Secret-Pa55word!"))
    emulator.faults(error_rate=1.0)

    drain(sent)

    run.refresh_from_db()
    assert (run.status, run.rows_failed) == (ImportRun.Status.FINISHED, 2)
    for row in ImportRow.objects.filter(run=run):
        # The password is gone with the row, so "Retry failed rows" would create the user
        # without it: the row is not offered for retry, and says what to do.
        assert "Secret-Pa55word!" not in row.payload
        assert row.payload  # the plan, without the password, for the failed-rows file
        assert row.transient is False
        assert "upload the row again, with its password" in row.message
    assert services.run_retry_failed(run_id=run.pk) == 0


def test_rows_skipped_by_a_cancel_keep_no_password(company, sent):
    run = start(company, new_people(30, password="Secret-Pa55word!"))
    assert services.run_cancel(run_id=run.pk)
    drain(sent)  # the window's messages: their rows are skipped by their worker

    run.refresh_from_db()
    assert run.finished_at is not None
    rows = ImportRow.objects.filter(run=run)
    assert rows.count() == 30
    assert not [row.line for row in rows if "Secret-Pa55word!" in row.payload]
    assert not rows.filter(transient=True).exists()


def test_a_create_that_got_no_slot_is_not_looked_up_on_its_next_attempt(company, emulator, sent):
    run = start(company, new_people(2))
    limiter = limiter_for(company)
    limiter.backoff(60)
    drain(sent)  # both rows handed back: their create never left
    rows = ImportRow.objects.filter(run=run)
    assert set(rows.values_list("status", "create_sent")) == {(S.QUEUED, False)}

    limiter.redis.delete(limiter.backoff_key)  # the back-off is over
    emulator.clear_stats()
    due_now(run)
    services.rows_dispatch_due()
    drain(sent)

    # One call a create: no lookup (GET /users?q=) was needed before it.
    assert set(rows.values_list("status", flat=True)) == {S.DONE}
    assert "GET /users" not in emulator.stats()["requests"]
    assert sum(emulator.stats()["requests"]["POST /users"].values()) == 2


def test_a_create_whose_answer_was_lost_is_looked_up_on_its_next_attempt(company, emulator, sent):
    run = start(company, new_people(1))
    emulator.faults(create_then_timeout_rate=1.0, timeout_hold_ms=100)
    emulator.clear_stats()
    drain(sent)
    row = ImportRow.objects.get(run=run)
    assert (row.status, row.create_sent) == (S.QUEUED, True)

    emulator.faults()
    due_now(run)
    services.rows_dispatch_due()
    drain(sent)

    row.refresh_from_db()
    assert row.status == S.DONE
    stats = emulator.stats()
    # Sent once (its answer lost), then looked up and found: never sent again.
    assert stats["create_attempts_by_email"] == {"user00900@bulk.example": 1}
    assert stats["create_conflicts_by_email"] == {}
    assert "GET /users" in stats["requests"]


def test_a_429_is_a_wait_not_a_failure(company, emulator, sent, settings):
    settings.IMPORT_ROW_MAX_ATTEMPTS = 1
    run = start(company, new_people(1))
    emulator.faults(throttle_rate=1.0)

    drain(sent)

    row = ImportRow.objects.get(run=run)
    # Refused with a 429: back in the queue with the server's wait, no failed send counted.
    assert (row.status, row.failures) == (S.QUEUED, 0)
    assert row.eligible_at > db_now()
    limiter = limiter_for(company)
    limiter.redis.delete(limiter.backoff_key, limiter.level_key)
    emulator.faults()
    due_now(run)
    services.rows_dispatch_due()
    drain(sent)
    row.refresh_from_db()
    assert (row.status, row.failures) == (S.DONE, 0)
