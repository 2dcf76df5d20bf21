"""End to end: a real `celery beat` (DatabaseScheduler) and real workers fire schedules."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from imports.models import ImportRun
from scheduler.models import Schedule, ScheduleFire
from user2smart.celery import app

pytestmark = pytest.mark.integration

T = TypeVar("T")
Outcome = ScheduleFire.Outcome


def wait_for(found: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        if time.monotonic() > deadline:
            pytest.fail(f"Waited {timeout:.0f} s for {what}")
        time.sleep(0.5)
    return value


def finished_fire(schedule: Schedule) -> ScheduleFire | None:
    return (
        ScheduleFire.objects.filter(schedule=schedule, finished_at__isnull=False)
        .select_related("run")
        .first()
    )


def test_beat_fires_a_schedule_due_now_and_the_users_and_the_log_arrive(
    acme, emulator, sftp_schedule, sftp_folder: Path, celery_worker, start_beat
) -> None:
    schedule = sftp_schedule(cron="* * * * *", timezone="UTC")

    start_beat()
    fire = wait_for(lambda: finished_fire(schedule), 150, "a fire, its run and its log")

    assert (fire.manual, fire.outcome, fire.reason) == (False, Outcome.STARTED, "")
    assert fire.scheduled_for.second == 0
    assert fire.run.result == "V", (fire.run.error, celery_worker.output())
    assert emulator.user("new.hire1@acme.example")["firstName"] == "Nadia"
    assert emulator.user("alice.martin@acme.example")["lastName"] == "Martin-Durand"
    day = fire.run.created_at.astimezone(UTC).strftime("%Y%m%d")
    assert fire.log_path == f"{sftp_folder}/logs/users-{day}.csv"
    assert "Nadia" in Path(fire.log_path).read_text(encoding="utf-8-sig")


def test_after_downtime_a_missed_run_is_caught_up_once(
    acme, emulator, sftp_schedule, celery_worker, start_beat
) -> None:
    # Beat was stopped since yesterday. One schedule's run was due 5 minutes ago (within the
    # starting deadline of an hour): caught up once. The other's, 90 minutes ago: not at all.
    now = timezone.now().astimezone(UTC)
    recent = (now - timedelta(minutes=5)).replace(second=0, microsecond=0)
    old = (now - timedelta(minutes=90)).replace(second=0, microsecond=0)
    missed = sftp_schedule(
        name="missed", cron=f"{recent.minute} {recent.hour} * * *", timezone="UTC"
    )
    stale = sftp_schedule(name="stale", cron=f"{old.minute} {old.hour} * * *", timezone="UTC")
    yesterday = now - timedelta(days=1)
    Schedule.objects.update(runs_from=yesterday - timedelta(hours=1))
    PeriodicTask.objects.filter(import_schedule__isnull=False).update(last_run_at=yesterday)

    beat = start_beat()
    fire = wait_for(lambda: finished_fire(missed), 90, "the catch-up fire and its run")
    time.sleep(12)  # beat checks its schedule every 5 s at most: let it check twice more

    assert fire.scheduled_for == recent
    assert fire.run.result == "V"
    assert ScheduleFire.objects.filter(schedule=missed).count() == 1
    assert not ScheduleFire.objects.filter(schedule=stale).exists()
    assert beat.output().count("acme / missed (scheduler.fire)") == 1
    assert ImportRun.objects.count() == 1


def test_two_fires_at_once_in_two_worker_processes_make_one_run(
    acme, emulator, sftp_schedule, celery_worker
) -> None:
    schedule = sftp_schedule()
    Schedule.objects.update(runs_from=timezone.now() - timedelta(days=3))

    for _ in range(2):
        app.send_task("scheduler.fire", kwargs={"schedule_id": schedule.pk})
    wait_for(lambda: finished_fire(schedule), 90, "the fire's run")
    wait_for(lambda: "already claimed" in celery_worker.output(), 30, "the second fire")

    assert ScheduleFire.objects.count() == 1
    assert ImportRun.objects.count() == 1
    assert datetime.now(UTC) > ScheduleFire.objects.get().scheduled_for
