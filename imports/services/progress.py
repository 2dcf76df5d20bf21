"""Keeping a run moving: its window of rows in flight, the rows that wait, and its one finisher.

A run never has more than `IMPORT_WINDOW_FACTOR x concurrency` rows queued or being sent: each
finished row tops the window up. So one company's 100,000-row run never delays another company's
10-row run by more than a window, and Redis never holds a whole file. A row that must wait (a
retry after a 5xx or a timeout, a company's back-off) stays in its run's window as `queued` with
an eligible-at time and no message; `run_dispatch` sends it once that time has come (on the next
top-up of its run, or on the beat tick `imports.dispatch`, whichever comes first).

`run_dispatch` locks the run before it touches its rows, like every transaction that locks both
(one lock order: the run, then its rows).
"""

from __future__ import annotations

import heapq
import io
import json
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now

from imports import logs
from imports.models import ImportRow, ImportRun, line_order
from imports.planner import PlannedRow
from imports.selectors import FOLDED_ROWS, is_folded_line, run_log_lines
from imports.services import queue
from imports.services.rowstate import (
    rows_take_due,
    rows_take_pending,
    run_lock_window,
    runs_with_due_rows,
)

log = logging.getLogger(__name__)

ENDING = (ImportRun.Status.RUNNING, ImportRun.Status.FAILED, ImportRun.Status.CANCELLED)
PASSWORD_NOT_KEPT = (
    " This row has a password, which User2Smart does not keep: upload the row again, with its "  # noqa: S105
    "password, to send it."
)


def window_size(concurrency: int) -> int:
    return settings.IMPORT_WINDOW_FACTOR * concurrency


def needs_top_up(in_flight: int, concurrency: int) -> bool:
    """Top the window up once a third of it has come back (not after every row)."""
    window = window_size(concurrency)
    return in_flight <= window - max(1, window // 3)


def run_dispatch(*, run_id: int) -> int:
    """Send the run's waiting rows whose time has come, and queue its next pending rows until
    its window is full; the number of messages sent."""
    with transaction.atomic():
        window = run_lock_window(run_id=run_id)
        if window is None:
            return 0
        concurrency, in_flight = window
        ids = rows_take_due(run_id=run_id)
        room = window_size(concurrency) - in_flight
        if room > 0:
            ids += rows_take_pending(run_id=run_id, count=room)
        if ids:
            transaction.on_commit(lambda: queue.rows_send(ids))
    return len(ids)


def rows_dispatch_due() -> int:
    """Send every waiting row whose time has come, run by run (the beat tick)."""
    return sum(run_dispatch(run_id=run_id) for run_id in runs_with_due_rows())


def not_sent_message(*, run_status: str, run_error: str, partly: bool) -> str:
    """Why a row of a stopped run was not (or not wholly) sent; `partly`: an attempt had
    started sending it, so it may be partly applied (said, not guessed)."""
    why = (
        "the run was cancelled."
        if run_status == ImportRun.Status.CANCELLED
        else f"the run stopped. {run_error}".strip()
    )
    if partly:
        return f"Stopped part-way, it may be partly applied in SmartRecruiters: {why}"
    return f"Not sent: {why}"


def plan_kept_after_failure(payload: str, steps_done: int) -> tuple[str, bool]:
    """What a row that did not end `done` keeps of its plan, and whether it can be sent again.

    The password is never kept past its row (PRODUCT: never stored past their row): the plan is
    kept without it, and a row whose user is still to be created with a password cannot be sent
    again by "Retry failed rows" (it would create the user without the password).
    """
    if not payload:
        return "", False
    planned = PlannedRow.from_json(json.loads(payload))
    needs_password = any(
        step.data.get("password")
        for step in planned.steps[steps_done:]
        if isinstance(step.data, dict)
    )
    return json.dumps(planned.redacted().to_json()), not needs_password


def run_finish(*, run_id: int) -> bool:
    """Finish the run if every row is in a final state. Exactly one caller wins.

    Once the finishing transaction has committed, its unchanged rows are folded into the log
    (`imports.fold_run`, `imports/services/retention.py`).
    """
    with transaction.atomic():
        claimed = ImportRun.objects.filter(
            pk=run_id,
            status__in=ENDING,
            finished_at__isnull=True,
            planning=False,  # a run sending while its file is checked goes on
            rows_done__gte=F("rows_total"),
        ).update(finished_at=Now())
        if not claimed:
            return False
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.RUNNING).update(
            status=ImportRun.Status.FINISHED
        )
        run = ImportRun.objects.get(pk=run_id)
        _forget_passwords(run)
        run.log_csv = _log_csv(run)
        run.failed_rows_csv = _failed_rows_csv(run)
        run.save(update_fields=["log_csv", "failed_rows_csv"])
        if run.source == ImportRun.Source.SCHEDULE:
            transaction.on_commit(lambda: queue.scheduled_run_ended_send(run_id))
        if run.rows_folded < run.count_unchanged:
            transaction.on_commit(lambda: queue.run_fold_send(run_id))
    log.info("run %s ended: %s %s", run_id, run.status, run.result)
    return True


def _forget_passwords(run: ImportRun) -> None:
    """Rows ended without their worker (skipped by a stop, ended by the sweeper) may still hold
    their full plan: keep it without the password, and say when the row cannot be retried."""
    ended = (
        run.rows.filter(status__in=[ImportRow.Status.ERROR, ImportRow.Status.SKIPPED])
        .exclude(payload="")
        .only("pk", "payload", "steps_done", "transient", "message")
    )
    changed: list[ImportRow] = []
    for row in ended.iterator(chunk_size=500):
        if '"password"' not in row.payload:
            continue
        row.payload, retryable = plan_kept_after_failure(row.payload, row.steps_done)
        if row.transient and not retryable:
            row.transient, row.message = False, row.message + PASSWORD_NOT_KEPT
        changed.append(row)
        if len(changed) >= 500:
            ImportRow.objects.bulk_update(changed, ["payload", "transient", "message"])
            changed.clear()
    ImportRow.objects.bulk_update(changed, ["payload", "transient", "message"])


def _log_csv(run: ImportRun) -> bytes:
    """The log: a line per row of the table and, when the run ends again ("Retry failed
    rows"), the lines of its folded rows taken from the log it had."""
    folded: list[logs.LogLine] = []
    rows = run.rows.all()
    earlier = run_log_lines(run)
    if earlier is not None:
        folded = [line for line in earlier if is_folded_line(line)]
        rows = rows.exclude(FOLDED_ROWS)
    values = rows.order_by(*line_order()).values_list(
        "line",
        "email",
        "first_name",
        "last_name",
        "action",
        "status",
        "message",
        "sr_user_id",
        "changes",
    )
    table = (_log_line(*row) for row in values.iterator(chunk_size=2000))
    out = io.BytesIO()
    logs.write_log(out, heapq.merge(table, folded, key=logs.line_key))
    return out.getvalue()


def _log_line(
    line: int | None,
    email: str,
    first: str,
    last: str,
    action: str,
    status: str,
    message: str,
    sr_id: str,
    changes: dict[str, list[Any]],
) -> logs.LogLine:
    result = "OK" if status == ImportRow.Status.DONE else "ERROR"
    words = logs.changes_words(changes)
    return logs.LogLine(line, email, first, last, action, result, message, sr_id, words)


def _failed_rows_csv(run: ImportRun) -> str:
    # A person missing from the file has no input row to fix and upload again, nor has an undo.
    if run.source == ImportRun.Source.UNDO:
        return ""
    failed = run.rows.filter(
        status__in=[ImportRow.Status.ERROR, ImportRow.Status.SKIPPED], line__isnull=False
    ).exclude(payload="")
    if not failed.exists():
        return ""
    # A row planned before plans kept the file's own cells holds them by column name.
    sources = (
        json.loads(payload).get("source") or []
        for payload in failed.order_by(*line_order()).values_list("payload", flat=True).iterator()
    )
    out = io.BytesIO()
    columns = run.columns or logs.COLUMNS
    logs.write_failed_rows(out, sources, columns=columns, delimiter=run.delimiter or ",")
    return out.getvalue().decode("utf-8")
