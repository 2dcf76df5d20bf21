"""The scheduler's sweeper: a fire or a wrap-up lost with its worker or its message goes on.

Nothing waits in a message: a fire's next attempt is due at ``next_attempt_at``, a wrap-up's at
``finish_next_at``, both on the database's clock. The tests let that time pass with a queryset
update, run ``fires_sweep`` (the beat task ``scheduler.sweep``) in this process, and run what it
sends here too (the ``sends`` fixture), against the real sshd and the emulator.
"""

from __future__ import annotations

import importlib
from datetime import UTC, timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from django.apps import apps
from django.core import mail
from django.db.models.functions import Now
from django.utils import timezone

from imports.models import ImportRun
from scheduler import services
from scheduler.cron import previous_run
from scheduler.models import Schedule, ScheduleFire
from scheduler.services.fires import ATTEMPT_LEASE, CLOCK_TOLERANCE
from tests.scheduler.conftest import (
    NOTIFY,
    ScheduleMaker,
    Sends,
    beat_fire,
    make_schedule,
    overdue,
    seconds_until,
)
from user2smart.dbclock import db_now

Outcome = ScheduleFire.Outcome
LOG = "line,email,result\r\n2,alice.martin@acme.example,OK\r\n".encode("utf-8-sig")


def claimed(schedule: Schedule) -> ScheduleFire:
    """Beat's fire claimed for the schedule's latest run time, no attempt made yet."""
    Schedule.objects.filter(pk=schedule.pk).update(runs_from=db_now() - timedelta(days=3))
    fire = services.fire_claim(schedule_id=schedule.pk)
    assert fire is not None
    assert fire.outcome == Outcome.PENDING
    return fire


def test_a_fire_whose_worker_died_during_its_attempt_is_tried_again_and_starts_its_run(
    sftp_schedule: ScheduleMaker, sends: Sends
) -> None:
    fire = claimed(sftp_schedule())
    # A worker claims the first attempt as `fire_attempt` does, then dies before it ends.
    ScheduleFire.objects.filter(pk=fire.pk, attempts=0).update(
        attempts=1, next_attempt_at=Now() + ATTEMPT_LEASE
    )

    services.fires_sweep()  # while the attempt may still be running, nothing is sent

    assert not sends.attempts.called
    fire.refresh_from_db()
    assert seconds_until(fire.next_attempt_at) == pytest.approx(660, abs=5)

    overdue(fire)  # 11 minutes later
    found = services.fires_sweep()

    sends.attempts.assert_called_once_with(fire.pk, 1)
    assert found == {"attempts": 1, "failed": 0, "wrap_ups": 0, "closed": 0}
    fire.refresh_from_db()
    assert (fire.outcome, fire.attempts, fire.reason) == (Outcome.STARTED, 2, "")
    assert fire.next_attempt_at is None
    assert fire.run.source == ImportRun.Source.SCHEDULE
    assert fire.run.file_name == "users.csv"


def test_a_fire_left_fetching_by_the_version_before_the_sweeper_is_made_due(
    sftp_schedule: ScheduleMaker, sends: Sends
) -> None:
    fire = claimed(sftp_schedule())
    # Its worker lost 20 minutes ago, under the version that kept no next attempt time.
    ScheduleFire.objects.filter(pk=fire.pk).update(
        attempts=1, next_attempt_at=None, updated_at=db_now() - timedelta(minutes=20)
    )
    migration = importlib.import_module("scheduler.migrations.0004_pending_fires_due")

    migration.pending_fires_due(apps, None)
    services.fires_sweep()

    sends.attempts.assert_called_once_with(fire.pk, 1)
    fire.refresh_from_db()
    assert (fire.outcome, fire.attempts) == (Outcome.STARTED, 2)


def test_a_wrap_up_whose_message_was_lost_writes_the_log_to_the_server(
    sftp_schedule: ScheduleMaker, sftp_folder: Path, sends: Sends
) -> None:
    fire = beat_fire(sftp_schedule(timezone="UTC"))
    ended = {"status": ImportRun.Status.FINISHED, "log_csv": LOG, "rows_total": 1, "rows_done": 1}
    # Ended a minute ago: its message may still be on the way, the sweeper leaves it be.
    ImportRun.objects.filter(pk=fire.run_id).update(
        finished_at=db_now() - timedelta(minutes=1), **ended
    )

    services.fires_sweep()

    assert not sends.wrap_ups.called

    # Ended 3 minutes ago and no wrap-up begun: the message was lost.
    ImportRun.objects.filter(pk=fire.run_id).update(finished_at=db_now() - timedelta(minutes=3))
    found = services.fires_sweep()

    sends.wrap_ups.assert_called_once_with(fire.run_id, 0)
    assert found["wrap_ups"] == 1
    fire.refresh_from_db()
    day = fire.run.created_at.astimezone(UTC)
    log = sftp_folder / "logs" / f"users-{day:%Y%m%d}.csv"
    assert fire.log_path == str(log)
    assert log.read_bytes() == LOG
    assert (fire.finish_error, fire.finish_attempts, fire.finish_next_at) == ("", 1, None)
    assert fire.finished_at is not None

    services.fires_sweep()  # done: not sent again

    assert sends.wrap_ups.call_count == 1


def test_a_fire_overdue_with_no_attempt_left_fails_and_the_addresses_are_told(
    acme, sends: Sends, django_capture_on_commit_callbacks
) -> None:
    fire = claimed(make_schedule(acme))
    # The last of its 4 attempts began and never ended (its worker was lost).
    ScheduleFire.objects.filter(pk=fire.pk).update(
        attempts=len(services.RETRY_DELAYS) + 1, next_attempt_at=db_now() - timedelta(seconds=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        found = services.fires_sweep()
        services.fires_sweep()  # a second sweep finds nothing more to do

    assert found == {"attempts": 0, "failed": 1, "wrap_ups": 0, "closed": 0}
    assert not sends.attempts.called
    fire.refresh_from_db()
    assert (fire.outcome, fire.next_attempt_at) == (Outcome.FAILED, None)
    assert fire.reason == (
        "The fire stopped while fetching the file (its worker was lost): nothing was imported."
    )
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert message.subject == "User2Smart: the scheduled import Acme Demo / nightly failed"
    assert fire.reason in message.body


@pytest.mark.parametrize(
    "off", [timedelta(minutes=-5), timedelta(minutes=5)], ids=["5-min-behind", "5-min-ahead"]
)
def test_a_worker_clock_that_is_off_does_not_change_the_time_a_fire_is_for(
    acme, off: timedelta
) -> None:
    schedule = make_schedule(acme, cron="* * * * *", timezone="Europe/Paris")
    Schedule.objects.filter(pk=schedule.pk).update(runs_from=db_now() - timedelta(days=1))
    real_now = timezone.now
    before = db_now()

    with patch("django.utils.timezone.now", autospec=True, side_effect=lambda: real_now() + off):
        fire = services.fire_claim(schedule_id=schedule.pk)

    after = db_now()
    # The minute of the database's clock (a fire a few seconds early belongs to the next one).
    earliest = previous_run(schedule.cron, schedule.timezone, before)
    latest = previous_run(schedule.cron, schedule.timezone, after + CLOCK_TOLERANCE)
    assert earliest <= fire.scheduled_for <= latest
    assert fire.outcome == Outcome.PENDING
    assert seconds_until(fire.next_attempt_at) == pytest.approx(60, abs=5)
