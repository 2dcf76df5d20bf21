"""The safety net: put lost work back, end what can no longer go on. A beat task, any time.

Messages are nudges, not the truth. The sweeper compares times with the database's clock (the
one rows are stamped with) and takes a row over only by a conditional UPDATE (still stale, or
still the attempt it saw), so a worker that is merely slow loses its claim cleanly (its next
write is refused) instead of sharing the row:

- a `queued` row whose message was sent and never picked up (a Redis restart) is sent again;
- a `sending` row with no progress for `IMPORT_SENDING_DEADLINE_SECONDS` (its worker died) goes
  back to `queued`, due at once; `create_sent` makes the next attempt look the user up first;
- in a run that is no longer running (cancelled, stopped by the circuit breaker) such rows, and
  rows waiting for their retry, end `skipped`, saying whether they may be partly applied; so
  every unfinished run ends;
- runs whose last row ended without a finisher are finished, emptied windows topped up, and
  plans whose worker died sent again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Q
from django.db.models.functions import Now

from imports.models import PLAN_UNFINISHED, ImportRow, ImportRun
from imports.services import queue
from imports.services.progress import not_sent_message, run_dispatch, run_finish
from imports.services.rowstate import row_end

log = logging.getLogger(__name__)

OPEN_ROW = (ImportRow.Status.QUEUED, ImportRow.Status.SENDING)
BATCH = 5000


def ago(seconds: float) -> ExpressionWrapper:
    """The database's clock minus `seconds`, for a filter."""
    return ExpressionWrapper(Now() - timedelta(seconds=seconds), output_field=DateTimeField())


def sweep() -> dict[str, int]:
    """Put lost work back. Safe to run at any time, from any number of processes."""
    found = {"queued": 0, "sending": 0, "ended": 0, "finished": 0, "dispatched": 0, "planned": 0}
    unfinished = ImportRun.objects.filter(
        status__in=[ImportRun.Status.RUNNING, ImportRun.Status.FAILED, ImportRun.Status.CANCELLED],
        finished_at__isnull=True,
    )
    running = unfinished.filter(status=ImportRun.Status.RUNNING)
    stopped = unfinished.exclude(status=ImportRun.Status.RUNNING)
    rows = ImportRow.objects.filter(run__in=running)

    # Messages sent and never picked up (lost in a Redis restart).
    lost = list(
        rows.filter(
            status=ImportRow.Status.QUEUED,
            eligible_at__isnull=True,
            queued_at__lt=ago(settings.IMPORT_QUEUED_DEADLINE_SECONDS),
        ).values_list("pk", flat=True)[:BATCH]
    )
    if lost:
        resent = list(
            ImportRow.objects.filter(
                pk__in=lost, status=ImportRow.Status.QUEUED, eligible_at__isnull=True
            ).values_list("pk", flat=True)
        )
        ImportRow.objects.filter(pk__in=resent).update(queued_at=Now())
        queue.rows_send(resent)
        found["queued"] = len(resent)

    # Rows whose worker stopped in the middle: back to `queued`, due now. The UPDATE checks the
    # staleness again, so a row that made progress meanwhile is left to its worker; a worker that
    # was only slow keeps nothing (its claim's next write is refused).
    stale = rows.filter(
        status=ImportRow.Status.SENDING,
        updated_at__lt=ago(settings.IMPORT_SENDING_DEADLINE_SECONDS),
    )
    runs_to_dispatch = set(stale.values_list("run_id", flat=True).distinct())
    found["sending"] = stale.update(
        status=ImportRow.Status.QUEUED, eligible_at=Now(), queued_at=None, updated_at=Now()
    )

    # Rows of stopped runs that are not ended yet, whatever their state: they end `skipped`.
    for run in stopped:
        found["ended"] += _end_rows_of_stopped_run(run)

    # Runs whose last row ended but whose finisher was lost, and runs with pending rows and an
    # empty window (a lost top-up).
    open_runs = unfinished.annotate(
        in_flight=Count("rows", filter=Q(rows__status__in=OPEN_ROW)),
        pending=Count("rows", filter=Q(rows__status=ImportRow.Status.PENDING)),
    )
    for run in open_runs:
        if run.rows_done >= run.rows_total and run.in_flight == 0:
            if run_finish(run_id=run.pk):
                found["finished"] += 1
        elif run.status == ImportRun.Status.RUNNING and run.pending and not run.in_flight:
            runs_to_dispatch.add(run.pk)
    for run_id in sorted(runs_to_dispatch):
        found["dispatched"] += run_dispatch(run_id=run_id)

    # Plans whose worker died (a plan task is killed at its hard time limit at the latest),
    # also after it sent its first changes: planned again, the plan goes on from the rows
    # already stored (`imports/services/planning.py`).
    stale_plans = ImportRun.objects.filter(PLAN_UNFINISHED).filter(
        Q(plan_claimed_at__lt=ago(settings.IMPORT_PLAN_TIME_LIMIT + 60))
        | Q(plan_claimed_at__isnull=True, created_at__lt=ago(60))
    )
    for run_id in stale_plans.values_list("pk", flat=True):
        if ImportRun.objects.filter(PLAN_UNFINISHED, pk=run_id).update(plan_claimed_at=None):
            queue.run_plan_send(run_id)
            found["planned"] += 1

    if any(found.values()):
        log.info("sweeper put back lost work: %s", found)
    return found


def _end_rows_of_stopped_run(run: ImportRun) -> int:
    """End the rows of a stopped run still queued (waiting for a retry, or with a message in
    flight) or sending with no progress for the deadline; each conditional on the attempt seen.
    """
    rows = ImportRow.objects.filter(run=run).filter(
        Q(status=ImportRow.Status.QUEUED)
        | Q(
            status=ImportRow.Status.SENDING,
            updated_at__lt=ago(settings.IMPORT_SENDING_DEADLINE_SECONDS),
        )
    )
    ended = 0
    for row in rows.only("pk", "run_id", "status", "attempts", "steps_done", "create_sent")[:BATCH]:
        message = not_sent_message(
            run_status=run.status,
            run_error=run.error,
            partly=row.status == ImportRow.Status.SENDING
            or bool(row.steps_done or row.create_sent),
        )
        if row.status == ImportRow.Status.QUEUED:
            # Claimed as a worker would (a new attempt number), then ended by the same fenced
            # statement as a worker's end.
            claimed = ImportRow.objects.filter(
                pk=row.pk, status=ImportRow.Status.QUEUED, attempts=row.attempts
            ).update(status=ImportRow.Status.SENDING, attempts=F("attempts") + 1, updated_at=Now())
            if not claimed:
                continue
            row.attempts += 1
        if row_end(row=row, status=ImportRow.Status.SKIPPED, message=message, transient=True):
            ended += 1
    return ended
