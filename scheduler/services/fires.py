"""Fires: claim a scheduled time once, fetch the file, start the import run.

1. ``fire_claim`` inserts the unique (schedule, scheduled time) row first. A second fire of
   beat for the same time (a duplicate, a late or repeated fire) finds the row and does nothing;
   a fire while the schedule's previous run is still open is recorded as skipped.
2. ``fire_attempt`` (claimed by a conditional UPDATE on ``attempts``, so a duplicate message
   does nothing) checks the run-as user, downloads the file and starts the run. A transient
   failure asks the caller to try again after ``RETRY_DELAYS``; then the fire fails, and the
   notification addresses are emailed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now

from imports.csvfile import CsvFileError
from imports.models import ImportRun
from imports.services import run_start
from imports.services.profiles import profile_load
from scheduler import sftp
from scheduler.cron import previous_run
from scheduler.models import Schedule, ScheduleFire
from scheduler.services import queue
from scheduler.services.checks import run_as_check
from scheduler.services.errors import FireError
from scheduler.services.notify import notify_fire_failed
from user2smart.dbclock import db_now

log = logging.getLogger(__name__)

Outcome = ScheduleFire.Outcome

# Waits before the 2nd, 3rd and 4th attempt of a fire whose server did not answer. They are kept
# in the database (`next_attempt_at`), not in a message: the scheduler's sweeper sends them.
RETRY_DELAYS = (30, 120, 300)
# An attempt is killed at its time limit (`scheduler/tasks.py`, 600 s): one not over this long
# after it began was lost with its worker, and the next attempt is made.
ATTEMPT_LEASE = timedelta(seconds=660)
# A fire claimed but whose first attempt has not begun after this long lost its message.
START_GRACE = timedelta(seconds=60)
# Beat's clock may be a moment ahead of the database's: a fire that arrives a moment "before"
# its time still belongs to it. The time is the database's, never a worker's.
CLOCK_TOLERANCE = timedelta(seconds=5)


def fire_claim(
    *, schedule_id: int, at: datetime | None = None, manual: bool = False
) -> ScheduleFire | None:
    """Claim the scheduled time of a fire at ``at`` (default now); None if already claimed.

    A beat fire belongs to the latest run time at or before ``at`` (``previous_run``); a
    manual fire (Run now, run_schedule) to ``at`` itself. The fire comes back ``pending`` (go
    on with ``fire_attempt``) or ``skipped`` with the reason.
    """
    at = at or db_now()
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update().select_related("company").filter(pk=schedule_id)
        ).first()
        if schedule is None:
            log.warning("Fire for schedule %s: there is no such schedule", schedule_id)
            return None
        if not manual and not schedule.enabled:
            log.info("Fire for %s ignored: the schedule is disabled", schedule)
            return None
        if manual:
            scheduled = at
        else:
            scheduled = previous_run(schedule.cron, schedule.timezone, at + CLOCK_TOLERANCE)
        if ScheduleFire.objects.filter(schedule=schedule, scheduled_for=scheduled).exists():
            log.info("Fire for %s at %s already claimed: nothing to do", schedule, scheduled)
            return None
        fire = ScheduleFire(
            schedule=schedule,
            scheduled_for=scheduled,
            manual=manual,
            next_attempt_at=db_now() + START_GRACE,
        )
        busy = _open_fire(schedule)
        if not manual and scheduled < schedule.runs_from:
            fire.outcome = Outcome.SKIPPED
            fire.reason = (
                f"Scheduled for {fire.local_time():%Y-%m-%d %H:%M %Z}, before the schedule was "
                f"last changed or enabled ({fire.local_time(schedule.runs_from):%H:%M:%S}): "
                "not run."
            )
        elif busy is not None:
            fire.outcome = Outcome.SKIPPED
            fire.reason = _busy_reason(busy)
        if fire.outcome == Outcome.SKIPPED:
            fire.next_attempt_at = None
        try:
            with transaction.atomic():
                fire.save()
        except IntegrityError:  # a concurrent fire claimed it first
            return None
    if fire.outcome == Outcome.SKIPPED:
        log.info("Fire for %s at %s skipped: %s", schedule, scheduled, fire.reason)
    return fire


def schedule_run_now(*, schedule: Schedule) -> ScheduleFire | None:
    """A fire now (the admin's Run now, ``run_schedule``); its attempt runs in a worker."""
    fire = fire_claim(schedule_id=schedule.pk, manual=True)
    if fire is not None and fire.outcome == Outcome.PENDING:
        fire_id = fire.pk
        transaction.on_commit(lambda: queue.fire_attempt_send(fire_id, 0))
    return fire


def fire_attempt(*, fire_id: int, attempt: int = 0) -> int | None:
    """Attempt number ``attempt`` (from 0). A transient failure sets when the next attempt is
    due (``next_attempt_at``, made by the sweeper) and returns its wait in seconds; else None.
    """
    claimed = ScheduleFire.objects.filter(
        pk=fire_id, outcome=Outcome.PENDING, attempts=attempt
    ).update(attempts=attempt + 1, next_attempt_at=Now() + ATTEMPT_LEASE, updated_at=Now())
    if not claimed:
        log.info("Fire %s attempt %s: already made, or the fire is over", fire_id, attempt + 1)
        return None
    fire = ScheduleFire.objects.select_related("schedule__company").get(pk=fire_id)
    schedule = fire.schedule
    try:
        run_as_check(company=schedule.company, email=schedule.run_as_email)
        data, remote = _download(schedule)
    except FireError as exc:
        if exc.retryable and attempt < len(RETRY_DELAYS):
            delay = RETRY_DELAYS[attempt]
            ScheduleFire.objects.filter(
                pk=fire_id, outcome=Outcome.PENDING, attempts=attempt + 1
            ).update(
                reason=f"Attempt {attempt + 1} failed: {exc.message} "
                f"Trying again in {delay} seconds.",
                next_attempt_at=Now() + timedelta(seconds=delay),
                updated_at=Now(),
            )
            log.warning("Fire %s attempt %s failed, retry in %s s", fire_id, attempt + 1, delay)
            return delay
        tries = f" ({attempt + 1} attempts)" if attempt else ""
        fire_fail(fire_id=fire_id, reason=exc.message + tries)
        return None
    _start_run(fire, data, remote)
    return None


def fire_fail(*, fire_id: int, reason: str) -> bool:
    """End a fire that is still fetching as failed, and email the notification addresses."""
    with transaction.atomic():
        failed = ScheduleFire.objects.filter(pk=fire_id, outcome=Outcome.PENDING).update(
            outcome=Outcome.FAILED, reason=reason, next_attempt_at=None, updated_at=Now()
        )
        if failed:
            transaction.on_commit(lambda: _notify_failed(fire_id))
    if failed:
        log.warning("Fire %s failed: %s", fire_id, reason)
    return bool(failed)


def _notify_failed(fire_id: int) -> None:
    notify_fire_failed(ScheduleFire.objects.select_related("schedule__company").get(pk=fire_id))


def _download(schedule: Schedule) -> tuple[bytes, sftp.RemoteFile]:
    try:
        with sftp.connect(schedule.sftp_settings()) as session:
            remote = session.stat(schedule.file_path)
            data = session.download(schedule.file_path, settings.IMPORT_MAX_FILE_BYTES)
    except sftp.SftpError as exc:
        raise FireError(str(exc), retryable=exc.retryable) from None
    return data, remote


def _start_run(fire: ScheduleFire, data: bytes, remote: sftp.RemoteFile) -> None:
    schedule = fire.schedule
    digest = hashlib.sha256(data).hexdigest()
    if schedule.skip_unchanged and not fire.manual:
        last = _last_run(schedule)
        if last is not None and last.result == "V" and last.file_sha256 == digest:
            reason = (
                f"{schedule.file_path} has not changed since run {last.pk} of "
                f"{fire.local_time(last.created_at):%Y-%m-%d %H:%M %Z}, which had no error: "
                "not imported again."
            )
            ScheduleFire.objects.filter(pk=fire.pk, outcome=Outcome.PENDING).update(
                outcome=Outcome.SKIPPED, reason=reason, next_attempt_at=None
            )
            log.info("Fire %s skipped: %s", fire.pk, reason)
            return
    try:
        with transaction.atomic():
            profile = profile_load(profile=schedule.profile) if schedule.profile else None
            run = run_start(
                company=schedule.company,
                file=io.BytesIO(data),
                file_name=posixpath.basename(schedule.file_path),
                mode=schedule.mode,
                missing=schedule.missing,
                all_or_nothing=schedule.all_or_nothing,
                source=ImportRun.Source.SCHEDULE,
                options=schedule.csv_options,
                dry_run=False,
                run_as_email=schedule.run_as_email,
                profile=profile,
            )
            started = ScheduleFire.objects.filter(pk=fire.pk, outcome=Outcome.PENDING).update(
                outcome=Outcome.STARTED,
                run=run,
                reason="",
                file_modified=remote.modified,
                next_attempt_at=None,
            )
            if not started:  # closed meanwhile (taken for abandoned): start nothing
                transaction.set_rollback(True)
                return
    except (CsvFileError, ValueError) as exc:
        fire_fail(fire_id=fire.pk, reason=f"The import could not start: {exc}")
        return
    log.info("Fire %s started run %s (%d bytes)", fire.pk, run.pk, len(data))


def _last_run(schedule: Schedule) -> ImportRun | None:
    return (
        ImportRun.objects.filter(schedule_fire__schedule=schedule, finished_at__isnull=False)
        .order_by("-created_at")
        .first()
    )


def _open_fire(schedule: Schedule) -> ScheduleFire | None:
    """The schedule's fire still fetching its file or whose run is still open, if any."""
    return (
        ScheduleFire.objects.filter(schedule=schedule)
        .filter(
            Q(outcome=Outcome.PENDING)
            | Q(outcome=Outcome.STARTED, run__status__in=ImportRun.OPEN_STATUSES)
        )
        .select_related("run")
        .order_by("-created_at")
        .first()
    )


def _busy_reason(busy: ScheduleFire) -> str:
    when = f"{busy.local_time():%Y-%m-%d %H:%M %Z}"
    if busy.outcome == Outcome.PENDING:
        return f"The fire of {when} is still fetching the file: skipped so as not to overlap it."
    return (
        f"Run {busy.run_id} (fired for {when}) is still running: skipped so as not to overlap it."
    )
