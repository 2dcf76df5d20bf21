"""What people and the circuit breaker do to a run: stop, cancel, discard, retry failed rows,
and the purge of what the audit no longer needs.

Each is one transaction that locks the run first, then its rows (the one lock order). A deadlock
or a serialization failure that PostgreSQL still reports (a session outside this order: an
operator's SQL) is retried a few times, so "Cancel" never answers 500.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from imports.models import ImportRow, ImportRun
from imports.services.progress import run_dispatch, run_finish

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
CONFLICT_TRIES = 4
# SQLSTATE of a deadlock and of a serialization failure: the transaction can simply be re-run.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}


def retried_on_conflict(func: Callable[P, T]) -> Callable[P, T]:
    """Run `func` (one transaction) again after a deadlock or serialization failure."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, CONFLICT_TRIES + 1):
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                state = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
                if state not in _RETRYABLE_SQLSTATES or attempt == CONFLICT_TRIES:
                    raise
                log.warning("%s: %s, trying again", func.__name__, type(exc.__cause__).__name__)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    return wrapper


@retried_on_conflict
def run_stop(*, run_id: int, reason: str, status: str, while_planning: bool = True) -> bool:
    """Stop a run at once (circuit breaker, or cancel): rows not yet sent are skipped.

    Rows being sent right now finish their current call; the last one to end finishes the run
    (and the sweeper ends those whose worker is gone). `while_planning=False` (a cancel): not a
    run whose file is still being checked while its first changes are sent.
    """
    message = (
        "Not sent: the run was cancelled."
        if status == ImportRun.Status.CANCELLED
        else f"Not sent: {reason}"
    )
    with transaction.atomic():
        stopping = ImportRun.objects.filter(
            pk=run_id, status__in=[ImportRun.Status.RUNNING, ImportRun.Status.PLANNED]
        )
        if not while_planning:
            stopping = stopping.filter(planning=False)
        stopped = stopping.update(status=status, error=reason, updated_at=Now())
        if not stopped:
            return False
        rows = ImportRow.objects.filter(run_id=run_id)
        skip = {"status": ImportRow.Status.SKIPPED, "message": message, "transient": True}
        # Counted by what each UPDATE changed: a row claimed meanwhile is not counted.
        queued = rows.filter(status=ImportRow.Status.QUEUED).update(**skip, updated_at=Now())
        pending = rows.filter(status=ImportRow.Status.PENDING).update(**skip, updated_at=Now())
        ImportRun.objects.filter(pk=run_id).update(
            rows_done=F("rows_done") + queued + pending,
            rows_skipped=F("rows_skipped") + queued + pending,
            rows_returned=F("rows_returned") + queued,
        )
    log.warning("run %s stopped (%s): %s", run_id, status, reason)
    run_finish(run_id=run_id)
    return True


def run_cancel(*, run_id: int) -> bool:
    """Cancel a running import: rows not yet sent are not sent. A preview (nothing was sent) is
    discarded instead, so it can never be applied, nor its rows sent by a retry."""
    if run_discard(run_id=run_id):
        return True
    # Not while its file is still checked (its first changes may be on their way).
    return run_stop(
        run_id=run_id,
        reason="Cancelled.",
        status=ImportRun.Status.CANCELLED,
        while_planning=False,
    )


def run_cancel_refusal(*, run: ImportRun) -> str:
    """Why `run` cannot be cancelled now, in words; "" when it can."""
    if run.checking:
        return "its file is still being checked; try again in a moment."
    if run.status in (ImportRun.Status.RUNNING, ImportRun.Status.PLANNED):
        return ""
    return f"it has ended ({run.get_status_display().lower()})."


@retried_on_conflict
def run_discard(*, run_id: int) -> bool:
    """Throw a preview away: nothing was sent, the plan and its passwords are wiped."""
    with transaction.atomic():
        discarded = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PLANNED).update(
            status=ImportRun.Status.DISCARDED, finished_at=Now()
        )
        if discarded:
            ImportRow.objects.filter(run_id=run_id).exclude(payload="").update(payload="")
    return bool(discarded)


@retried_on_conflict
def run_retry_failed(*, run_id: int) -> int:
    """Send again the rows that failed for a passing reason (no answer, credential refused)."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().get(pk=run_id)
        if run.is_open or run.finished_at is None or run.status == ImportRun.Status.DISCARDED:
            return 0
        rows = run.rows.filter(
            status__in=[ImportRow.Status.ERROR, ImportRow.Status.SKIPPED], transient=True
        ).exclude(payload="")
        failed = rows.filter(status=ImportRow.Status.ERROR).count()
        total = rows.update(
            status=ImportRow.Status.PENDING,
            transient=False,
            message="",
            failures=0,
            eligible_at=None,
            updated_at=Now(),
        )
        if not total:
            return 0
        ImportRun.objects.filter(pk=run_id).update(
            status=ImportRun.Status.RUNNING,
            error="",
            finished_at=None,
            rows_done=F("rows_done") - total,
            rows_failed=F("rows_failed") - failed,
            rows_skipped=F("rows_skipped") - (total - failed),
        )
    run_dispatch(run_id=run_id)
    return total


def run_retry_refusal(*, run: ImportRun) -> str:
    """Why "Retry failed rows" would send nothing for `run` now, in words; "" when it would."""
    if run.status == ImportRun.Status.DISCARDED:
        return "it is a preview that was discarded."
    if run.status == ImportRun.Status.PLANNED:
        return "it is a preview: apply it or discard it."
    if run.is_open or run.finished_at is None:
        return "it has not ended yet."
    retryable = run.rows.filter(
        status__in=[ImportRow.Status.ERROR, ImportRow.Status.SKIPPED], transient=True
    ).exclude(payload="")
    if not retryable.exists():
        return (
            "no row failed for a passing reason (rows with errors in the file must be fixed "
            "and uploaded again)."
        )
    return ""


def run_purge_expired() -> int:
    """Forget what the audit does not need once runs are old: failed rows' input values."""
    cutoff = timezone.now() - timedelta(days=settings.IMPORT_KEEP_FAILED_ROWS_DAYS)
    old = ImportRun.objects.filter(finished_at__lt=cutoff)
    ImportRow.objects.filter(run__in=old).exclude(payload="").update(payload="", transient=False)
    return old.exclude(failed_rows_csv="").update(failed_rows_csv="")
