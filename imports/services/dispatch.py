"""Keeping rows moving: a window of queued rows per run, and the sweeper that finds lost ones.

A run never has more than `IMPORT_WINDOW_FACTOR x concurrency` rows in the queue: each finished
row tops the window up. So one company's 100,000-row run never delays another company's
10-row run by more than a window, and Redis never holds a whole file.

Messages are nudges, not the truth: the sweeper (a beat task) puts back rows whose message was
lost (a Redis restart) or whose worker died (SIGKILL), and finishes runs whose finisher was lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from imports.models import ImportRow, ImportRun
from imports.services.rowstate import run_window

log = logging.getLogger(__name__)

OPEN_ROW = (ImportRow.Status.QUEUED, ImportRow.Status.SENDING)


def _enqueue(row_ids: list[int], countdown: float | None = None) -> None:
    from imports import tasks

    # One producer (one broker connection) for the whole batch.
    with tasks.apply_row.app.producer_or_acquire() as producer:
        for row_id in row_ids:
            tasks.apply_row.apply_async((row_id,), countdown=countdown, producer=producer)


def window_size(concurrency: int) -> int:
    return settings.IMPORT_WINDOW_FACTOR * concurrency


def needs_top_up(in_flight: int, concurrency: int) -> bool:
    """Top the window up once a third of it has come back (not after every row)."""
    window = window_size(concurrency)
    return in_flight <= window - max(1, window // 3)


def run_dispatch(run_id: int) -> int:
    """Queue the run's next pending rows until its window is full; the number queued.

    Dispatchers do not wait for each other (rows every worker finishes would queue up behind a
    lock on the run): two at once take different rows (SKIP LOCKED) and may overfill the window
    by a few rows, which the next top-ups absorb.
    """
    window = run_window(run_id)
    if window is None:
        return 0
    concurrency, in_flight = window
    room = window_size(concurrency) - in_flight
    if room <= 0:
        return 0
    with transaction.atomic():
        ids = list(
            ImportRow.objects.filter(run_id=run_id, status=ImportRow.Status.PENDING)
            .order_by("line")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:room]
        )
        if ids:
            ImportRow.objects.filter(pk__in=ids).update(
                status=ImportRow.Status.QUEUED, queued_at=timezone.now()
            )
            ImportRun.objects.filter(pk=run_id).update(
                rows_dispatched=F("rows_dispatched") + len(ids)
            )
            transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def sweep() -> dict[str, int]:
    """Put lost work back. Safe to run at any time, from any number of processes."""
    from imports import tasks
    from imports.services.finishing import run_finish

    now = timezone.now()
    found = {"queued": 0, "sending": 0, "finished": 0, "dispatched": 0, "planned": 0}
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING)

    # Rows whose message never arrived (lost in a Redis restart, or never sent).
    stale_queued = list(
        ImportRow.objects.filter(
            run__in=running,
            status=ImportRow.Status.QUEUED,
            queued_at__lt=now - timedelta(seconds=settings.IMPORT_QUEUED_DEADLINE_SECONDS),
        ).values_list("pk", flat=True)[:5000]
    )
    if stale_queued:
        ImportRow.objects.filter(pk__in=stale_queued, status=ImportRow.Status.QUEUED).update(
            queued_at=now
        )
        _enqueue(stale_queued)
        found["queued"] = len(stale_queued)

    # Rows whose worker stopped in the middle (no step recorded for too long). They go back to
    # the queue; `create_sent` makes the next attempt look the user up before creating. In a run
    # stopped meanwhile they are ended as not sent (or as perhaps partly sent), so it finishes.
    unfinished = ImportRun.objects.filter(  # running, or stopped and not finished yet
        status__in=[ImportRun.Status.RUNNING, ImportRun.Status.FAILED, ImportRun.Status.CANCELLED],
        finished_at__isnull=True,
    )
    stale_sending = list(
        ImportRow.objects.filter(
            run__in=unfinished,
            status=ImportRow.Status.SENDING,
            updated_at__lt=now - timedelta(seconds=settings.IMPORT_SENDING_DEADLINE_SECONDS),
        ).values_list("pk", flat=True)[:5000]
    )
    if stale_sending:
        ImportRow.objects.filter(pk__in=stale_sending, status=ImportRow.Status.SENDING).update(
            status=ImportRow.Status.QUEUED, queued_at=now
        )
        _enqueue(stale_sending)
        found["sending"] = len(stale_sending)

    # Runs whose last row finished but whose finisher was lost, and runs with pending rows and
    # an empty window (a lost top-up).
    open_runs = unfinished.annotate(
        in_flight=Count("rows", filter=Q(rows__status__in=OPEN_ROW)),
        pending=Count("rows", filter=Q(rows__status=ImportRow.Status.PENDING)),
    )
    for run in open_runs:
        if run.rows_done >= run.rows_total and run.in_flight == 0:
            run_finish(run.pk)
            found["finished"] += 1
        elif run.status == ImportRun.Status.RUNNING and run.pending and not run.in_flight:
            found["dispatched"] += run_dispatch(run.pk)

    # Plans whose worker died (a plan task is killed at its hard time limit at the latest).
    stale_plans = ImportRun.objects.filter(
        status=ImportRun.Status.VALIDATING,
    ).filter(
        Q(plan_claimed_at__lt=now - timedelta(seconds=settings.IMPORT_PLAN_TIME_LIMIT + 60))
        | Q(plan_claimed_at__isnull=True, created_at__lt=now - timedelta(seconds=60))
    )
    for run_id in stale_plans.values_list("pk", flat=True):
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.VALIDATING).update(
            plan_claimed_at=None
        )
        tasks.plan_run.delay(run_id)
        found["planned"] += 1

    if any(found.values()):
        log.info("sweeper put back lost work: %s", found)
    return found
