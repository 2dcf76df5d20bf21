"""What the database keeps of a run once it has ended: its unchanged rows folded into its log,
and the whole run deleted after the audit's retention.

**Folding.** A nightly sync of 10,000 people that changes 100 of them would keep 9,900 rows a
night that say "Already up to date". Once a run has ended and its log is written, its unchanged
rows (`unchanged`, `done`) are deleted from the table and counted in `rows_folded`; the log keeps
their lines, and the pages and `import_users --json` read them back from it
(`imports/selectors.py`). Rows that changed something or failed stay: the audit, "Retry failed
rows" and a person's history need them. `run_finish` sends `imports.fold_run` once its
transaction has committed; the hourly `imports.purge_expired` folds what a lost message or a
cut-short fold left.

**Retention.** Runs created more than `IMPORT_KEEP_RUNS_DAYS` ago are deleted with their rows
and log. Relations to a run, and what deleting it does to them:

- `ImportRow`, `ImportFileChunk` (cascade): deleted, the rows first in batches;
- `ImportRun.undoes` (set null): an undo of the run stays, without its link;
- `ScheduleFire.run` (set null): the fire stays, without its run. A schedule that skips an
  unchanged file compares it with its last run, so the newest ended run of each scheduled file
  of a company is kept whatever its age;
- a relation that forbids the deletion (protect, restrict): the run is kept, and a warning says
  which; nothing of it is deleted.

Every batch is one short transaction that locks the run first, then its rows (the one lock
order), and checks that the run is still ended: a run reopened by "Retry failed rows" is left
alone until it ends again. A crash between batches leaves a state that the next call completes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.db.models.functions import Now

from imports.models import ImportRow, ImportRun
from imports.selectors import FOLDED_ROWS, run_log_lines
from imports.services.control import run_discard

log = logging.getLogger(__name__)

# Rows deleted by one statement (and one transaction).
BATCH = 2000
# Runs folded, or purged, by one call of the hourly task; the next call goes on.
RUNS_PER_CALL = 500
# Runs whose log is written: folding and the retention wait for them.
ENDED = (ImportRun.Status.FINISHED, ImportRun.Status.FAILED, ImportRun.Status.CANCELLED)


def run_fold(*, run_id: int) -> int:
    """Delete the run's unchanged rows, `BATCH` a transaction, once it has ended and its log
    (which keeps their lines) is written; the number this call deleted. Safe to repeat, and
    to run from several processes at once."""
    run = ImportRun.objects.filter(pk=run_id, status__in=ENDED, finished_at__isnull=False).first()
    if run is None or not run.count_unchanged:
        return 0
    if run_log_lines(run) is None:
        log.warning("run %s: its log cannot stand for its unchanged rows; they are kept", run_id)
        return 0
    folded = 0
    while True:
        with transaction.atomic():
            if not _lock_ended(run_id, log_written=True):
                return folded
            pks = list(
                ImportRow.objects.filter(FOLDED_ROWS, run_id=run_id).values_list("pk", flat=True)[
                    :BATCH
                ]
            )
            if not pks:
                break
            deleted, _ = ImportRow.objects.filter(FOLDED_ROWS, pk__in=pks).delete()
            ImportRun.objects.filter(pk=run_id).update(rows_folded=F("rows_folded") + deleted)
        folded += deleted
    if folded:
        log.info("run %s: %s unchanged rows folded into its log", run_id, folded)
    return folded


def runs_fold_pending(*, limit: int = RUNS_PER_CALL) -> int:
    """Fold the ended runs that still hold unchanged rows (the message of their end lost, a
    fold cut short, runs that ended before folding existed), newest first; rows deleted."""
    pending = (
        ImportRun.objects.filter(
            status__in=ENDED,
            finished_at__isnull=False,
            log_csv__isnull=False,
            rows_folded__lt=F("count_unchanged"),
        )
        .filter(Exists(ImportRow.objects.filter(FOLDED_ROWS, run=OuterRef("pk"))))
        .order_by("-finished_at")
        .values_list("pk", flat=True)
    )
    return sum(run_fold(run_id=run_id) for run_id in list(pending[:limit]))


def runs_purge_old(*, limit: int = RUNS_PER_CALL) -> int:
    """Delete the runs created more than `IMPORT_KEEP_RUNS_DAYS` ago, oldest first, with their
    rows and log; the number of runs deleted.

    A preview still waiting to be applied after that long is discarded first (its plan is as
    old as the directory it was made from), then deleted like any ended run.
    """
    cutoff = ExpressionWrapper(
        Now() - timedelta(days=settings.IMPORT_KEEP_RUNS_DAYS), output_field=DateTimeField()
    )
    stale_previews = ImportRun.objects.filter(
        status=ImportRun.Status.PLANNED, created_at__lt=cutoff
    ).values_list("pk", flat=True)
    for run_id in list(stale_previews[:limit]):
        run_discard(run_id=run_id)
    old = _purgeable().filter(created_at__lt=cutoff).order_by("created_at")
    run_ids = list(old.values_list("pk", flat=True)[:limit])
    return sum(run_purge(run_id=run_id) for run_id in run_ids)


def run_purge(*, run_id: int) -> bool:
    """Delete one ended run: its rows `BATCH` a transaction, then the run. False when it is
    not ended (any more), or a relation forbids deleting it (its rows are then kept too)."""
    run = ImportRun.objects.filter(pk=run_id).only("pk").first()
    if run is None:
        return False
    try:
        # What deleting it would do to every relation, without doing it: refused here by a
        # relation that protects it, before any of its rows is deleted.
        Collector(using=ImportRun.objects.db, origin=run).collect([run])
        while True:
            with transaction.atomic():
                if not _lock_ended(run_id, log_written=False):
                    return False
                pks = list(
                    ImportRow.objects.filter(run_id=run_id).values_list("pk", flat=True)[:BATCH]
                )
                if not pks:
                    ImportRun.objects.filter(pk=run_id).delete()
                    break
                ImportRow.objects.filter(pk__in=pks).delete()
    except (ProtectedError, RestrictedError) as exc:
        kept = sorted({type(obj).__name__ for obj in exc.args[1]})
        log.warning("run %s is past retention but kept: %s still need it", run_id, kept)
        return False
    log.info("run %s deleted: older than %s days", run_id, settings.IMPORT_KEEP_RUNS_DAYS)
    return True


def _purgeable() -> QuerySet[ImportRun]:
    """Ended runs (discarded previews included), but the newest ended run of each scheduled
    file of a company: a schedule that skips an unchanged file compares it with that run."""
    newer_of_same_file = ImportRun.objects.filter(
        company=OuterRef("company"),
        source=ImportRun.Source.SCHEDULE,
        file_name=OuterRef("file_name"),
        finished_at__isnull=False,
        created_at__gt=OuterRef("created_at"),
    )
    return (
        ImportRun.objects.filter(finished_at__isnull=False)
        .exclude(status__in=ImportRun.OPEN_STATUSES)
        .filter(~Q(source=ImportRun.Source.SCHEDULE) | Exists(newer_of_same_file))
    )


def _lock_ended(run_id: int, *, log_written: bool) -> bool:
    """Lock the run (in the caller's transaction) if it is still ended; whether it is."""
    runs = ImportRun.objects.filter(pk=run_id, finished_at__isnull=False).exclude(
        status__in=ImportRun.OPEN_STATUSES
    )
    if log_written:
        runs = runs.filter(status__in=ENDED, log_csv__isnull=False)
    return bool(list(runs.select_for_update().values_list("pk", flat=True)))
