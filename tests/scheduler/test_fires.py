"""Claims: one fire per scheduled time, no overlap, no past time after an edit, DST-proof.

Beat is simulated with its own timezone-aware crontab (django-celery-beat's, read from the
schedule's beat entry) and a frozen clock; each fire it makes is claimed twice, as a beat that
double-fires would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_celery_beat.models import PeriodicTask

from imports.models import ImportRun
from scheduler import services
from scheduler.models import Schedule, ScheduleFire
from tests.scheduler.conftest import NOTIFY, make_schedule
from user2smart.dbclock import db_now

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
Outcome = ScheduleFire.Outcome


def frozen(moment: datetime):
    return patch("django.utils.timezone.now", autospec=True, return_value=moment)


def claim(schedule: Schedule, at: datetime) -> ScheduleFire | None:
    """What the task ``scheduler.fire`` claims when beat's message arrives at ``at``."""
    with frozen(at):
        return services.fire_claim(schedule_id=schedule.pk, at=at)


def created_at(moment: datetime, company, **values) -> Schedule:
    with frozen(moment):
        return make_schedule(company, **values)


def open_run(schedule: Schedule, status: str = ImportRun.Status.RUNNING) -> ImportRun:
    return ImportRun.objects.create(
        company=schedule.company, source=ImportRun.Source.SCHEDULE, status=status
    )


# One claim per scheduled time


def test_two_beat_fires_for_one_time_make_one_claim(acme) -> None:
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, cron="0 2 * * *")

    first = claim(schedule, datetime(2025, 6, 2, 2, 0, 0, 300_000, tzinfo=PARIS))
    second = claim(schedule, datetime(2025, 6, 2, 2, 0, 4, tzinfo=PARIS))

    assert first is not None
    assert first.outcome == Outcome.PENDING
    assert first.scheduled_for == datetime(2025, 6, 2, 2, 0, tzinfo=PARIS)
    assert second is None
    assert ScheduleFire.objects.count() == 1


def test_a_late_fire_claims_the_time_it_is_late_for(acme) -> None:
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, cron="0 2 * * *")

    fire = claim(schedule, datetime(2025, 6, 2, 2, 47, tzinfo=PARIS))

    assert fire.scheduled_for == datetime(2025, 6, 2, 2, 0, tzinfo=PARIS)


def test_a_fire_a_moment_early_still_belongs_to_its_time(acme) -> None:
    # Beat's clock a little ahead of the worker's: the fire is for 02:00, not yesterday's.
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, cron="0 2 * * *")

    fire = claim(schedule, datetime(2025, 6, 2, 1, 59, 58, tzinfo=PARIS))

    assert fire.scheduled_for == datetime(2025, 6, 2, 2, 0, tzinfo=PARIS)


def test_a_disabled_schedule_is_not_fired(acme) -> None:
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, enabled=False)

    assert claim(schedule, datetime(2025, 6, 2, 2, 0, tzinfo=PARIS)) is None
    assert not ScheduleFire.objects.exists()


def test_a_fire_of_a_deleted_schedule_does_nothing(acme) -> None:
    assert services.fire_claim(schedule_id=123456) is None


def test_a_time_before_the_last_edit_is_not_run(acme) -> None:
    # An edit at 02:10 and a beat that fires the 02:00 run anyway (django-celery-beat #537).
    schedule = created_at(datetime(2025, 6, 2, 2, 10, tzinfo=PARIS), acme, cron="0 2 * * *")

    fire = claim(schedule, datetime(2025, 6, 2, 2, 10, 5, tzinfo=PARIS))

    assert fire.outcome == Outcome.SKIPPED
    assert fire.reason == (
        "Scheduled for 2025-06-02 02:00 CEST, before the schedule was last changed or enabled "
        "(02:10:00): not run."
    )


def test_run_now_claims_its_own_moment(acme) -> None:
    # Not the schedule's latest run time (02:00): the moment it was asked, by the database.
    schedule = make_schedule(acme, cron="0 2 * * *")
    before = db_now()

    fire = services.schedule_run_now(schedule=schedule)

    assert (fire.manual, fire.outcome) == (True, Outcome.PENDING)
    assert before <= fire.scheduled_for <= db_now()


# Never overlapping


def test_a_fire_while_the_previous_run_is_open_is_skipped(acme) -> None:
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, cron="*/10 * * * *")
    first = claim(schedule, datetime(2025, 6, 2, 2, 0, tzinfo=PARIS))
    run = open_run(schedule)
    ScheduleFire.objects.filter(pk=first.pk).update(outcome=Outcome.STARTED, run=run)

    second = claim(schedule, datetime(2025, 6, 2, 2, 10, tzinfo=PARIS))

    assert second.outcome == Outcome.SKIPPED
    assert second.reason == (
        f"Run {run.pk} (fired for 2025-06-02 02:00 CEST) is still running: skipped so as not "
        "to overlap it."
    )

    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.FINISHED)
    third = claim(schedule, datetime(2025, 6, 2, 2, 20, tzinfo=PARIS))

    assert third.outcome == Outcome.PENDING


def test_a_fire_still_fetching_its_file_blocks_the_next(acme) -> None:
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, cron="*/10 * * * *")
    claim(schedule, datetime(2025, 6, 2, 2, 0, tzinfo=PARIS))

    second = claim(schedule, datetime(2025, 6, 2, 2, 10, tzinfo=PARIS))

    assert second.outcome == Outcome.SKIPPED
    assert "is still fetching the file" in second.reason


def test_a_fire_lost_with_its_worker_is_closed_and_no_longer_blocks(
    acme, django_capture_on_commit_callbacks
) -> None:
    schedule = created_at(datetime(2025, 6, 1, 12, 0, tzinfo=PARIS), acme, cron="0 * * * *")
    lost = claim(schedule, datetime(2025, 6, 2, 2, 0, tzinfo=PARIS))
    # Its last attempt began and never ended (the worker died): no attempt is left.
    ScheduleFire.objects.filter(pk=lost.pk).update(
        attempts=len(services.RETRY_DELAYS) + 1, next_attempt_at=db_now() - timedelta(seconds=1)
    )
    meanwhile = claim(schedule, datetime(2025, 6, 2, 3, 0, tzinfo=PARIS))

    with django_capture_on_commit_callbacks(execute=True):
        services.fires_sweep()
    fire = claim(schedule, datetime(2025, 6, 2, 4, 0, tzinfo=PARIS))

    assert meanwhile.outcome == Outcome.SKIPPED
    assert fire.outcome == Outcome.PENDING
    lost.refresh_from_db()
    assert lost.outcome == Outcome.FAILED
    assert "its worker was lost" in lost.reason
    assert [message.to for message in mail.outbox] == [[NOTIFY]]


# Daylight saving time


def beat_simulation(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Run beat's crontab for the schedule's entry from ``start`` to ``end``; claim each fire.

    Every fire is claimed twice (a duplicate from beat); a fire that starts is then closed
    at once, as if its run had ended. Returns the times beat fired at.
    """
    task = PeriodicTask.objects.get(import_schedule=schedule)
    crontab = task.crontab.schedule
    last = task.last_run_at
    now = start.astimezone(UTC)  # UTC: Python adds to a zoned time by the wall clock
    end = end.astimezone(UTC)
    fired = []
    while now < end:
        crontab.nowfun = lambda now=now: now.astimezone(crontab.tz)
        due, next_in = crontab.is_due(last)
        if due:
            fired.append(now)
            last = now
            claim(schedule, now)
            claim(schedule, now + timedelta(seconds=1))
            ScheduleFire.objects.filter(outcome=Outcome.PENDING).update(outcome=Outcome.STARTED)
        now += timedelta(seconds=min(max(next_in, 5), 60))  # beat's checks, 5 to 60 s apart here
    return fired


def claimed(schedule: Schedule) -> list[tuple[str, str]]:
    zone = ZoneInfo(schedule.timezone)
    return [
        (fire.scheduled_for.astimezone(zone).isoformat(), fire.outcome)
        for fire in ScheduleFire.objects.filter(schedule=schedule).order_by("scheduled_for")
    ]


DST_NIGHTS = [
    pytest.param(
        "30 2 * * *",
        "Europe/Paris",
        datetime(2025, 3, 29, 12, 0, tzinfo=PARIS),
        ["2025-03-30T03:30:00+02:00", "2025-03-31T02:30:00+02:00"],
        id="paris-spring-forward-02:30-runs-at-03:30",
    ),
    pytest.param(
        "30 2 * * *",
        "Europe/Paris",
        datetime(2025, 10, 25, 12, 0, tzinfo=PARIS),
        ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"],
        id="paris-fall-back-02:30-runs-once",
    ),
    pytest.param(
        "0 * * * *",
        "Europe/Paris",
        datetime(2025, 10, 26, 0, 30, tzinfo=PARIS),
        [
            "2025-10-26T01:00:00+02:00",
            "2025-10-26T02:00:00+02:00",
            "2025-10-26T03:00:00+01:00",
            "2025-10-26T04:00:00+01:00",
        ],
        id="paris-fall-back-hourly-not-doubled",
    ),
    pytest.param(
        "*/30 1-3 * * *",
        "America/New_York",
        datetime(2025, 3, 9, 0, 0, tzinfo=NEW_YORK),
        [
            "2025-03-09T01:00:00-05:00",
            "2025-03-09T01:30:00-05:00",
            "2025-03-09T03:00:00-04:00",
            "2025-03-09T03:30:00-04:00",
        ],
        id="new-york-spring-forward-gap",
    ),
    pytest.param(
        "30 1 * * *",
        "America/New_York",
        datetime(2025, 11, 1, 12, 0, tzinfo=NEW_YORK),
        ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"],
        id="new-york-fall-back-01:30-runs-once",
    ),
]


@pytest.mark.parametrize(("cron", "tz", "start", "expected"), DST_NIGHTS)
def test_clock_changes_neither_skip_nor_double_a_run(
    acme, cron: str, tz: str, start: datetime, expected: list[str]
) -> None:
    schedule = created_at(start, acme, cron=cron, timezone=tz)
    end = datetime.fromisoformat(expected[-1]) + timedelta(minutes=20)

    fired = beat_simulation(schedule, start, end)

    assert claimed(schedule) == [(time, Outcome.STARTED) for time in expected]
    assert len(fired) == len(expected)


def test_a_schedule_created_in_the_repeated_hour_runs_once_the_next_night(acme) -> None:
    # Created at 01:15 EST, the second 01:15 of the night: celery's crontab puts the next 01:30
    # at 01:30 EDT, already past, and beat fires at every check until 01:30 EST. All those
    # fires belong to 01:30 EDT, before the schedule existed: one skipped claim, no import.
    start = datetime(2025, 11, 2, 6, 15, tzinfo=UTC)
    schedule = created_at(start, acme, cron="30 1 * * *", timezone="America/New_York")

    fired = beat_simulation(schedule, start, datetime(2025, 11, 3, 7, 0, tzinfo=UTC))

    assert len(fired) > 2  # beat's repeated fires (celery#6438 family) did happen
    assert claimed(schedule) == [
        ("2025-11-02T01:30:00-04:00", Outcome.SKIPPED),
        ("2025-11-03T01:30:00-05:00", Outcome.STARTED),
    ]
