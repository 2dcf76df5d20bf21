"""Saving schedules, and the one beat entry (PeriodicTask) each of them owns.

Beat is kept in line here, on save, enable, disable and delete, never by signals. When the
expression, the timezone or the enabled state changes, the schedule is "re-armed": its
``runs_from`` and the task's ``last_run_at`` become now, so beat counts from now and an edit
never fires a time that has already passed (django-celery-beat #537, #683).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

from scheduler.cron import parse_cron
from scheduler.models import Schedule
from user2smart.companies.models import Company

FIRE_TASK = "scheduler.fire"
TIMING_FIELDS = ("cron", "timezone", "enabled")
SECRET_FIELDS = ("sftp_password", "sftp_private_key")


@dataclass(frozen=True)
class ScheduleSaved:
    schedule: Schedule
    created: bool
    changed: list[str] = field(default_factory=list)  # verbose names; never a secret's value


@transaction.atomic
def schedule_save(schedule: Schedule) -> Schedule:
    """Save a (validated) schedule and bring its beat entry in line with it."""
    before = (
        Schedule.objects.filter(pk=schedule.pk).values(*TIMING_FIELDS).first()
        if schedule.pk
        else None
    )
    rearm = before is None or any(before[name] != getattr(schedule, name) for name in TIMING_FIELDS)
    if rearm:
        schedule.runs_from = timezone.now()
    schedule.save()
    _sync_beat(schedule, rearm=rearm)
    return schedule


@transaction.atomic
def schedule_upsert(*, company: Company, name: str, values: Mapping[str, object]) -> ScheduleSaved:
    """Create the schedule ``name`` of ``company`` or update it with ``values`` (model fields).

    A new password clears the stored private key and the other way round. Raises
    ``ValidationError`` with every problem found.
    """
    schedule = Schedule.objects.select_for_update().filter(company=company, name=name).first()
    created = schedule is None
    if schedule is None:
        schedule = Schedule(company=company, name=name)
    changed: list[str] = []
    values = dict(values)
    if values.get("sftp_password"):
        values["sftp_private_key"] = ""
    elif values.get("sftp_private_key"):
        values["sftp_password"] = ""
    for field_name, value in values.items():
        if getattr(schedule, field_name) != value:
            setattr(schedule, field_name, value)
            field = Schedule._meta.get_field(field_name)
            changed.append(str(getattr(field, "verbose_name", field_name)))
    if created or changed:
        schedule.full_clean()
        schedule_save(schedule)
    return ScheduleSaved(schedule=schedule, created=created, changed=changed)


@transaction.atomic
def schedule_delete(schedule: Schedule) -> None:
    """Delete the schedule, its fires and its beat entry (its runs stay in the history)."""
    task = schedule.periodic_task
    schedule.delete()
    if task is not None:
        task.delete()


@transaction.atomic
def schedules_set_enabled(*, schedules: QuerySet[Schedule], enabled: bool) -> tuple[int, int]:
    """Enable or disable many schedules at once: (changed, refused for want of a host key)."""
    targets = schedules.filter(enabled=not enabled)
    refused = 0
    if enabled:
        refused = targets.filter(host_key="").count()
        targets = targets.exclude(host_key="")
    ids = list(targets.values_list("pk", flat=True))
    if not ids:
        return 0, refused
    now = timezone.now()
    if enabled:
        Schedule.objects.filter(pk__in=ids).update(enabled=True, runs_from=now)
        tasks = PeriodicTask.objects.filter(import_schedule__pk__in=ids)
        tasks.update(enabled=True, last_run_at=now)
    else:
        Schedule.objects.filter(pk__in=ids).update(enabled=False)
        PeriodicTask.objects.filter(import_schedule__pk__in=ids).update(
            enabled=False, last_run_at=None
        )
    # A schedule whose task was deleted elsewhere gets a new one.
    for schedule in Schedule.objects.filter(pk__in=ids, periodic_task__isnull=True):
        _sync_beat(schedule, rearm=True)
    PeriodicTasks.update_changed()  # bulk updates send no signal: tell beat
    return len(ids), refused


def beat_name(schedule: Schedule) -> str:
    return f"schedule {schedule.pk}: {schedule.company.slug} / {schedule.name}"[:200]


def _sync_beat(schedule: Schedule, *, rearm: bool) -> PeriodicTask:
    fields = parse_cron(schedule.cron).crontab_fields()
    crontab, _ = CrontabSchedule.objects.get_or_create(**fields, timezone=schedule.timezone)
    task = schedule.periodic_task
    wanted = {
        "name": beat_name(schedule),
        "task": FIRE_TASK,
        "kwargs": json.dumps({"schedule_id": schedule.pk}),
        "crontab": crontab,
        "enabled": schedule.enabled,
        "description": f"Scheduled import {schedule} (managed by the schedule: edit it there).",
    }
    if task is None:
        task = PeriodicTask(**wanted, last_run_at=schedule.runs_from)
        task.save()
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])
        return task
    differ = [name for name, value in wanted.items() if getattr(task, name) != value]
    for name in differ:
        setattr(task, name, wanted[name])
    if rearm:
        task.last_run_at = schedule.runs_from
    if differ or rearm:
        # Only what changed: beat writes last_run_at and total_run_count concurrently.
        update_fields = [*differ, "date_changed"]
        if rearm or not task.enabled:
            update_fields.append("last_run_at")  # save() clears it on a disabled task
        task.save(update_fields=update_fields)
    return task
