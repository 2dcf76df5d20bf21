"""Undo a run: a new run (source `undo`) whose plan puts back what the run undone applied.

The undo is planned like any import, in a worker (`planning.run_plan` reads the directory as it
is now, through the mirror, and asks `undo_planned` for the rows), previewed or applied by the
same row tasks at the company's rate limit, with the same log and history. What it puts back
comes from what each row of the run undone recorded: the user it changed or created, and each
field's old and new values (`ImportRow.changes`). A row that stopped part-way (an error, or a
stop, after some of its steps were sent) is undone for the steps it reached; rows that sent
nothing (errors, held, previews) are not undone.

It is offered for as long as the run is kept (`IMPORT_KEEP_RUNS_DAYS` after it was created): the
rows that changed something are never folded away (`retention.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from imports.models import ImportRow, ImportRun, Mode, line_order
from imports.planner import Directory, PlannedRow, ReadLocation
from imports.planner.undo import Applied, plan_undo, reached_changes
from imports.services import queue
from imports.services.fullsync import ALREADY_INACTIVE

UNDONE_ACTIONS = (ImportRow.Action.CREATE, ImportRow.Action.UPDATE, ImportRow.Action.DEACTIVATE)


NOTHING_TO_UNDO = "This import changed nothing in SmartRecruiters: there is nothing to undo."


class UndoRefused(ValueError):
    """The run cannot be undone (as asked); the message says why, for the admin."""


def undo_until(*, run: ImportRun) -> datetime:
    """Until when the run can be undone: it is deleted, with what undo needs, after that."""
    return run.created_at + timedelta(days=settings.IMPORT_KEEP_RUNS_DAYS)


def undo_refusal(*, run: ImportRun) -> str | None:
    """Why the run cannot be undone now, or None when it can."""
    if run.dry_run or run.status in (ImportRun.Status.PLANNED, ImportRun.Status.DISCARDED):
        return "This import is a preview: it changed nothing, so there is nothing to undo."
    if run.is_open or run.finished_at is None:
        return "This import has not ended yet: undo it once it has."
    if timezone.now() >= undo_until(run=run):
        return "This import is too old to be undone: its audit is no longer kept."
    under_way = run.undone_by.filter(status__in=ImportRun.OPEN_STATUSES).first()
    if under_way is not None:
        return (
            f"An undo of this import is already under way (import {under_way.pk}): apply or "
            "discard it first."
        )
    if not applied_rows(run=run).exists():
        return NOTHING_TO_UNDO
    return None


def applied_rows(*, run: ImportRun) -> QuerySet[ImportRow]:
    """The rows of the run that changed something in SmartRecruiters, in line order: those
    done, and those that stopped part-way (an error or a stop after a step was sent)."""
    stopped = [ImportRow.Status.ERROR, ImportRow.Status.SKIPPED]
    return (
        run.rows.filter(
            Q(status=ImportRow.Status.DONE) | Q(status__in=stopped, steps_done__gt=0),
            action__in=UNDONE_ACTIONS,
        )
        .exclude(sr_user_id="")
        .exclude(message=ALREADY_INACTIVE)  # an allowed deactivation that found nothing to do
        .exclude(Q(changes={}) & ~Q(action=ImportRow.Action.CREATE))  # only an activation email
        .order_by(*line_order())
        .defer("payload")
    )


def undo_start(
    *,
    run: ImportRun,
    emails: Sequence[str] = (),
    force: bool = False,
    dry_run: bool = True,
    created_by: User | None = None,
    enqueue: bool = True,
) -> ImportRun:
    """Create the undo of `run` (all of it, or only the people with these emails) and plan it
    in a worker after commit. Raises UndoRefused, saying why, when it cannot be undone."""
    chosen = sorted({email.strip().lower() for email in emails if email.strip()})
    with transaction.atomic():
        # Locked: two clicks at once make one undo, the other is told it is under way.
        run = ImportRun.objects.select_for_update().get(pk=run.pk)
        refusal = undo_refusal(run=run)
        if refusal is not None:
            raise UndoRefused(refusal)
        if chosen:
            known = set()
            for row in applied_rows(run=run).only("email", "changes"):
                known.update(_addresses(row))
            unknown = [email for email in chosen if email not in known]
            if unknown:
                raise UndoRefused(
                    f"Import {run.pk} changed no one with the email {', '.join(unknown)}: only "
                    "the people it created, changed, activated or deactivated can be undone."
                )
        undo = ImportRun.objects.create(
            company_id=run.company_id,
            source=ImportRun.Source.UNDO,
            created_by=created_by,
            mode=Mode.UPDATE,
            dry_run=dry_run,
            undoes=run,
            undo_emails=chosen,
            undo_force=force,
            file_name=f"Undo of import {run.pk}",
        )
        if enqueue:
            transaction.on_commit(lambda: queue.run_plan_send(undo.pk))
    return undo


def _applied(row: ImportRow) -> Applied:
    partial = row.status != ImportRow.Status.DONE
    created = row.action == ImportRow.Action.CREATE
    changes = row.changes
    if partial and not created:
        changes = reached_changes(changes, row.steps_done)
    return Applied(
        line=row.line,
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        user_id=row.sr_user_id,
        created=created,
        changes=changes,
        partial=partial,
    )


def _addresses(row: ImportRow) -> set[str]:
    """The emails a row of the run is known by: its own, and an email it changed."""
    found = {row.email.lower()}
    found.update(str(value).lower() for value in row.changes.get("email", ()) if value)
    return found


def undo_planned(
    *, run: ImportRun, directory: Directory, read_location: ReadLocation | None = None
) -> Iterator[PlannedRow]:
    """The plan of the undo `run` against `directory` (the company's users as they are now)."""
    undone = run.undoes
    if undone is None:
        return iter(())
    chosen = set(run.undo_emails)
    applied = (
        _applied(row)
        for row in applied_rows(run=undone).iterator(chunk_size=1000)
        if not chosen or _addresses(row) & chosen
    )
    return plan_undo(
        applied,
        directory,
        run_label=f"import {undone.pk}",
        force=run.undo_force,
        read_location=read_location,
    )
