"""The end of a run: exactly one finisher, the log, the failed rows; cancel, stop, retry, purge."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from imports import logs
from imports.models import ImportRow, ImportRun
from imports.planner import PlannedRow

log = logging.getLogger(__name__)

ENDING = (ImportRun.Status.RUNNING, ImportRun.Status.FAILED, ImportRun.Status.CANCELLED)


def run_finish(run_id: int) -> bool:
    """Finish the run if every row is in a final state. Exactly one caller wins."""
    with transaction.atomic():
        claimed = ImportRun.objects.filter(
            pk=run_id,
            status__in=ENDING,
            finished_at__isnull=True,
            rows_done__gte=F("rows_total"),
        ).update(finished_at=timezone.now())
        if not claimed:
            return False
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.RUNNING).update(
            status=ImportRun.Status.FINISHED
        )
        run = ImportRun.objects.get(pk=run_id)
        run.log_csv = _log_csv(run)
        run.failed_rows_csv = _failed_rows_csv(run)
        run.save(update_fields=["log_csv", "failed_rows_csv"])
        if run.source == ImportRun.Source.SCHEDULE:
            transaction.on_commit(lambda: _announce_scheduled_run_finished(run_id))
    log.info("run %s ended: %s %s", run_id, run.status, run.result)
    return True


def _announce_scheduled_run_finished(run_id: int) -> None:
    # The scheduler uploads the log and notifies; it depends on imports, not the other way.
    from user2smart.celery import app

    app.send_task("scheduler.run_finished", args=[run_id])


def _log_csv(run: ImportRun) -> bytes:
    out = io.BytesIO()
    rows = run.rows.order_by("line").values_list(
        "line", "email", "first_name", "last_name", "action", "status", "message", "sr_user_id"
    )
    logs.write_log(out, (_log_line(*values) for values in rows.iterator(chunk_size=2000)))
    return out.getvalue()


def _log_line(line, email, first, last, action, status, message, sr_id) -> logs.LogLine:
    result = "OK" if status == ImportRow.Status.DONE else "ERROR"
    return logs.LogLine(line, email, first, last, action, result, message, sr_id)


def _failed_rows_csv(run: ImportRun) -> str:
    failed = run.rows.filter(status__in=[ImportRow.Status.ERROR, ImportRow.Status.SKIPPED]).exclude(
        payload=""
    )
    if not failed.exists():
        return ""
    sources = (
        PlannedRow.from_json(json.loads(payload)).source
        for payload in failed.order_by("line").values_list("payload", flat=True).iterator()
    )
    out = io.BytesIO()
    columns = run.columns or logs.COLUMNS
    logs.write_failed_rows(out, sources, columns=columns, delimiter=run.delimiter or ",")
    return out.getvalue().decode("utf-8")


def run_stop(run: ImportRun, *, reason: str, status: str) -> bool:
    """Stop a running run at once (circuit breaker, or cancel): rows not yet sent are skipped.

    Rows being sent right now finish their current call; the last one to end finishes the run.
    """
    with transaction.atomic():
        stopped = ImportRun.objects.filter(
            pk=run.pk, status__in=[ImportRun.Status.RUNNING, ImportRun.Status.PLANNED]
        ).update(status=status, error=reason)
        if not stopped:
            return False
        skipped = ImportRow.objects.filter(
            run_id=run.pk, status__in=[ImportRow.Status.PENDING, ImportRow.Status.QUEUED]
        )
        message = (
            "Not sent: the run was cancelled."
            if status == ImportRun.Status.CANCELLED
            else f"Not sent: {reason}"
        )
        queued = skipped.filter(status=ImportRow.Status.QUEUED).count()
        count = skipped.update(status=ImportRow.Status.SKIPPED, message=message, transient=True)
        ImportRun.objects.filter(pk=run.pk).update(
            rows_done=F("rows_done") + count,
            rows_skipped=F("rows_skipped") + count,
            rows_returned=F("rows_returned") + queued,
        )
    log.warning("run %s stopped (%s): %s", run.pk, status, reason)
    run_finish(run.pk)
    return True


def run_cancel(*, run: ImportRun) -> bool:
    return run_stop(run, reason="Cancelled.", status=ImportRun.Status.CANCELLED)


def run_discard(*, run: ImportRun) -> bool:
    """Throw a preview away: nothing was sent, the plan and its passwords are wiped."""
    with transaction.atomic():
        discarded = ImportRun.objects.filter(pk=run.pk, status=ImportRun.Status.PLANNED).update(
            status=ImportRun.Status.DISCARDED, finished_at=timezone.now()
        )
        if discarded:
            run.rows.exclude(payload="").update(payload="")
    return bool(discarded)


def run_retry_failed(*, run: ImportRun) -> int:
    """Send again the rows that failed for a passing reason (no answer, credential refused)."""
    from imports.services.dispatch import run_dispatch

    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        if run.is_open or run.finished_at is None or run.status == ImportRun.Status.DISCARDED:
            return 0
        rows = run.rows.filter(
            status__in=[ImportRow.Status.ERROR, ImportRow.Status.SKIPPED], transient=True
        ).exclude(payload="")
        failed = rows.filter(status=ImportRow.Status.ERROR).count()
        total = rows.update(
            status=ImportRow.Status.PENDING, transient=False, message="", attempts=0
        )
        if not total:
            return 0
        ImportRun.objects.filter(pk=run.pk).update(
            status=ImportRun.Status.RUNNING,
            error="",
            finished_at=None,
            rows_done=F("rows_done") - total,
            rows_failed=F("rows_failed") - failed,
            rows_skipped=F("rows_skipped") - (total - failed),
        )
    run_dispatch(run.pk)
    return total


def run_purge_expired() -> int:
    """Forget what the audit does not need once runs are old: failed rows' input values."""
    cutoff = timezone.now() - timedelta(days=settings.IMPORT_KEEP_FAILED_ROWS_DAYS)
    old = ImportRun.objects.filter(finished_at__lt=cutoff)
    ImportRow.objects.filter(run__in=old).exclude(payload="").update(payload="", transient=False)
    return old.exclude(failed_rows_csv="").update(failed_rows_csv="")
