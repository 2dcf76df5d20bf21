"""Each schedule owns one beat entry, kept in line on create, edit, enable, disable, delete."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from unittest.mock import patch
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

from scheduler import services
from scheduler.models import Schedule, ScheduleFire
from tests.scheduler.conftest import make_schedule

PARIS = ZoneInfo("Europe/Paris")


def entry(schedule: Schedule) -> PeriodicTask:
    return PeriodicTask.objects.get(import_schedule=schedule)


def crontab_text(task: PeriodicTask) -> str:
    c = task.crontab
    return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week} {c.timezone}"


def frozen(moment: datetime):
    return patch("django.utils.timezone.now", autospec=True, return_value=moment)


def test_a_new_schedule_gets_one_entry_that_fires_it(acme) -> None:
    schedule = make_schedule(acme, cron="0 15 10 ? * MON-FRI", timezone="Europe/Paris")

    task = PeriodicTask.objects.get()
    assert task == schedule.periodic_task
    assert task.task == "scheduler.fire"
    assert json.loads(task.kwargs) == {"schedule_id": schedule.pk}
    assert crontab_text(task) == "15 10 * * 1-5 Europe/Paris"
    assert task.enabled
    assert task.last_run_at == schedule.runs_from


def test_schedules_with_the_same_times_share_one_crontab_row(acme) -> None:
    make_schedule(acme, name="a", cron="0 2 * * *", timezone="UTC")
    make_schedule(acme, name="b", cron="0 0 2 * * ?", timezone="UTC")  # the same, in Quartz
    make_schedule(acme, name="c", cron="0 2 * * *", timezone="Europe/Paris")

    assert PeriodicTask.objects.count() == 3
    assert CrontabSchedule.objects.count() == 2


def test_editing_the_expression_changes_the_same_entry(acme) -> None:
    schedule = make_schedule(acme, cron="0 2 * * *")
    first = entry(schedule)

    schedule.cron = "30 6 * * 1-5"
    schedule.timezone = "America/New_York"
    services.schedule_save(schedule)

    task = PeriodicTask.objects.get()
    assert task.pk == first.pk
    assert crontab_text(task) == "30 6 * * 1-5 America/New_York"


def test_renaming_a_schedule_renames_its_entry_only(acme) -> None:
    schedule = make_schedule(acme, name="nightly")

    schedule.name = "every night"
    services.schedule_save(schedule)

    assert PeriodicTask.objects.get().name == f"schedule {schedule.pk}: acme / every night"


def test_disabling_and_enabling_keep_exactly_one_entry(acme) -> None:
    schedule = make_schedule(acme)
    others = make_schedule(acme, name="other")
    before = PeriodicTasks.last_change()

    services.schedules_set_enabled(schedules=Schedule.objects.all(), enabled=False)

    assert PeriodicTask.objects.filter(enabled=False).count() == 2
    assert PeriodicTasks.last_change() > before  # bulk updates told beat
    changed_at = PeriodicTasks.last_change()

    changed, refused = services.schedules_set_enabled(
        schedules=Schedule.objects.filter(pk=schedule.pk), enabled=True
    )

    assert (changed, refused) == (1, 0)
    assert entry(schedule).enabled
    assert not entry(others).enabled
    assert PeriodicTask.objects.count() == 2
    assert PeriodicTasks.last_change() > changed_at


def test_a_schedule_without_a_pinned_key_is_not_enabled(acme) -> None:
    schedule = make_schedule(acme, enabled=False, host_key="")

    changed, refused = services.schedules_set_enabled(
        schedules=Schedule.objects.all(), enabled=True
    )

    assert (changed, refused) == (0, 1)
    assert not entry(schedule).enabled


def test_saving_a_disabled_schedule_disables_its_entry(acme) -> None:
    schedule = make_schedule(acme)

    schedule.enabled = False
    services.schedule_save(schedule)

    task = entry(schedule)
    assert (task.enabled, task.last_run_at) == (False, None)


def test_deleting_a_schedule_deletes_its_entry_and_fires(acme) -> None:
    schedule = make_schedule(acme)
    ScheduleFire.objects.create(schedule=schedule, scheduled_for=timezone.now())
    make_schedule(acme, name="kept")

    services.schedule_delete(schedule)

    assert list(PeriodicTask.objects.values_list("name", flat=True)) == [
        f"schedule {Schedule.objects.get().pk}: acme / kept"
    ]
    assert not ScheduleFire.objects.exists()


def test_a_deleted_entry_is_made_again_when_the_schedule_is_enabled(acme) -> None:
    schedule = make_schedule(acme, enabled=False)
    entry(schedule).delete()

    services.schedules_set_enabled(schedules=Schedule.objects.all(), enabled=True)

    assert entry(schedule).enabled


def test_an_edit_never_fires_a_time_already_past(acme) -> None:
    # Beat was last seen firing yesterday at 10:00; at 10:30 an operator moves the run to 10:15.
    # Counting from yesterday, beat would fire 10:15 at once; counting from the edit, tomorrow.
    yesterday = datetime(2025, 6, 1, 10, 0, tzinfo=PARIS)
    edit_time = datetime(2025, 6, 2, 10, 30, tzinfo=PARIS)
    schedule = make_schedule(acme, cron="0 10 * * *")
    PeriodicTask.objects.filter(pk=entry(schedule).pk).update(last_run_at=yesterday)

    with frozen(edit_time):
        schedule.cron = "15 10 * * *"
        services.schedule_save(schedule)

    task = entry(schedule)
    beat = task.crontab.schedule
    beat.nowfun = lambda: edit_time
    assert beat.is_due(yesterday).is_due  # what beat would do without the re-arm
    due, next_in = beat.is_due(task.last_run_at)
    assert not due
    assert edit_time + timedelta(seconds=next_in) == datetime(2025, 6, 3, 10, 15, tzinfo=PARIS)
    assert schedule.runs_from == edit_time


def test_an_edit_of_other_fields_leaves_beat_alone(acme) -> None:
    schedule = make_schedule(acme)
    last_fire = timezone.now() - timedelta(hours=3)
    PeriodicTask.objects.filter(pk=entry(schedule).pk).update(last_run_at=last_fire)
    armed = schedule.runs_from

    schedule.notify_emails = "someone.else@acme.example"
    services.schedule_save(schedule)

    assert entry(schedule).last_run_at == last_fire
    assert Schedule.objects.get().runs_from == armed
