"""After a scheduled run: write its log back to the SFTP server, move the file, notify.

``imports`` sends the task ``scheduler.run_finished`` when a run of source "schedule" ends (a
nudge: the scheduler's sweeper finds a wrap-up whose message was lost, or whose attempt is due).
Each step is recorded on the fire as it is done (``log_path``, ``moved_to``), so a retry after
a transient failure does not write the log twice; a duplicate message finds the attempt
already claimed and does nothing. A run that ends again after its wrap-up (an admin retried its
failed rows) gets a new wrap-up: its new log is written beside the first one (``-2``) and the
notification goes out again.

A run that held its deactivations (full sync, over its limit) is told once: the wrap-up that
claims ``held_notified_at`` (a conditional UPDATE, in the transaction that closes the wrap-up)
sends the held email instead of the X one; a later wrap-up of the same run sends the usual one.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models.functions import Now

from imports import logs
from imports.models import ImportRun
from scheduler import sftp
from scheduler.cron import get_zone
from scheduler.models import Schedule, ScheduleFire
from scheduler.services.fires import ATTEMPT_LEASE, RETRY_DELAYS
from scheduler.services.notify import notify_run_ended
from user2smart.dbclock import db_now

log = logging.getLogger(__name__)


def run_wrap_up(*, run_id: int, attempt: int = 0) -> int | None:
    """Attempt ``attempt`` (from 0) at the after-run steps. A transient failure sets when the
    next attempt is due (``finish_next_at``, made by the sweeper) and returns its wait in
    seconds; else None."""
    fire = ScheduleFire.objects.filter(run_id=run_id).select_related("run").first()
    if fire is None:
        log.info("Run %s ended: no schedule fire started it", run_id)
        return None
    if attempt == 0 and _ended_again(fire):
        # Failed rows were retried after the wrap-up: the log written then is out of date.
        ScheduleFire.objects.filter(pk=fire.pk, finished_at=fire.finished_at).update(
            finished_at=None,
            finish_attempts=0,
            finish_next_at=None,
            log_path="",
            finish_error="",
            updated_at=Now(),
        )
    claimed = ScheduleFire.objects.filter(
        pk=fire.pk, finished_at__isnull=True, finish_attempts=attempt
    ).update(finish_attempts=attempt + 1, finish_next_at=Now() + ATTEMPT_LEASE, updated_at=Now())
    if not claimed:
        log.info("Run %s: after-run attempt %s already made", run_id, attempt + 1)
        return None
    fire = ScheduleFire.objects.select_related("schedule__company", "run").get(pk=fire.pk)
    run = fire.run
    if run is None:  # the run was deleted meanwhile: nothing to write back
        return None
    schedule = fire.schedule
    fire.finish_error = ""
    try:
        with sftp.connect(schedule.sftp_settings()) as session:
            if not fire.log_path:
                day = run.created_at.astimezone(get_zone(schedule.timezone)).date()
                fire.log_path = session.upload_log(
                    schedule.log_dir, schedule.log_prefix, day, _log_bytes(run)
                )
                fire.save(update_fields=["log_path", "updated_at"])
            if schedule.after_import == Schedule.AfterImport.MOVE and not fire.moved_to:
                fire.moved_to, fire.finish_error = _move(session, schedule, fire, run)
                fire.save(update_fields=["moved_to", "updated_at"])
    except sftp.SftpError as exc:
        if exc.retryable and attempt < len(RETRY_DELAYS):
            delay = RETRY_DELAYS[attempt]
            fire.finish_error = f"{exc} Trying again in {delay} seconds."
            fire.save(update_fields=["finish_error", "updated_at"])
            ScheduleFire.objects.filter(pk=fire.pk, finish_attempts=attempt + 1).update(
                finish_next_at=Now() + timedelta(seconds=delay)
            )
            log.warning("Run %s: after-run attempt %s failed: %s", run_id, attempt + 1, exc)
            return delay
        fire.finish_error = str(exc)
    fire.finished_at = db_now()
    fire.finish_next_at = None
    with transaction.atomic():
        fire.save(update_fields=["finish_error", "finished_at", "finish_next_at", "updated_at"])
        held = bool(run.held) and _held_notice_claimed(fire)
        transaction.on_commit(lambda: notify_run_ended(fire, run, held=held))
    log.info("Run %s: log %s, moved to %s", run_id, fire.log_path or "-", fire.moved_to or "-")
    return None


def _held_notice_claimed(fire: ScheduleFire) -> bool:
    """Exactly one wrap-up of a run tells that it held its deactivations."""
    return bool(
        ScheduleFire.objects.filter(pk=fire.pk, held_notified_at__isnull=True).update(
            held_notified_at=Now()
        )
    )


def _ended_again(fire: ScheduleFire) -> bool:
    run = fire.run
    return (
        fire.finished_at is not None
        and run is not None
        and run.finished_at is not None
        and run.finished_at > fire.finished_at
    )


def _log_bytes(run: ImportRun) -> bytes:
    """The run's log; for a file that could not be read at all, one line with the reason."""
    if run.rows_total or not run.error:
        return bytes(run.log_csv or b"")
    out = io.BytesIO()
    logs.write_log(out, [logs.LogLine(0, "", "", "", "error", "ERROR", run.error)])
    return out.getvalue()


def _move(
    session: sftp.SftpSession, schedule: Schedule, fire: ScheduleFire, run: ImportRun
) -> tuple[str, str]:
    """(new path, "") once moved; ("", why) when the file was left in place."""
    if run.status != ImportRun.Status.FINISHED:
        return "", f"The run did not finish, so {schedule.file_path} was left in place."
    try:
        now = session.stat(schedule.file_path)
    except sftp.SftpFileNotFound:
        return "", f"{schedule.file_path} was no longer there to be moved."
    if now.size != run.file_size or (fire.file_modified and now.modified != fire.file_modified):
        return "", (
            f"{schedule.file_path} changed after it was downloaded (a new delivery?): it was "
            "left in place, to be imported next time."
        )
    return session.move(schedule.file_path, schedule.move_to), ""
