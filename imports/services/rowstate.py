"""The statements that move rows: claim, progress, hand back, end, and the dispatcher's takes.

Each row runs them from every worker, so they are plain SQL: the ORM would spend more time
composing them than the database spends running them (docs/performance.md). They are portable
SQL (UPDATE ... RETURNING: PostgreSQL, SQLite >= 3.35) except the end, which on PostgreSQL is one
data-modifying statement and elsewhere one short transaction.

Two rules hold in every statement here:

- **Time is the database's.** Lease times (`updated_at` of a `sending` row), eligible-at times
  and queue times are written with the database's clock and compared with it (the sweeper uses
  the same clock), so a worker whose own clock is off changes nothing.
- **Every write of a claimed row is fenced.** The claim returns the row's attempt number; every
  later write of that worker is conditional on it (and on `sending`). A worker whose claim was
  taken over (the sweeper gave the row to another attempt) has its writes refused (`RowLost`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Field

from imports.models import ImportRow, ImportRun
from user2smart.companies.models import Company
from user2smart.dbclock import sql_later, sql_now

Counters = tuple[int, int, int]  # rows done, rows in total, rows in flight

_ROW = ImportRow._meta.db_table
_RUN = ImportRun._meta.db_table
_COMPANY = Company._meta.db_table
_S = ImportRow.Status

# What applying a row reads, in the model's field order (Model.from_db defers the others).
_CLAIM_FIELDS = [
    f.attname
    for f in ImportRow._meta.concrete_fields
    if f.attname
    in {
        "id",
        "run_id",
        "action",
        "sr_user_id",
        "attempts",
        "failures",
        "steps_done",
        "lookup_first",
        "create_sent",
        "email_started",
        "payload",
    }
]
_RUN_COUNTERS = (
    "rows_done = rows_done + 1, rows_failed = rows_failed + %s, "
    "rows_skipped = rows_skipped + %s, rows_returned = rows_returned + 1, updated_at = {now}"
)
_RETURNING = "RETURNING rows_done, rows_total, rows_dispatched - rows_returned"


class RowLost(Exception):
    """This worker's claim on the row is over (another attempt has it, or it ended): stop."""


@dataclass(frozen=True)
class RunState:
    status: str
    error: str
    company_id: int
    company_version: object  # the company's `updated_at`: a saved change is seen at once


@cache
def _sql(vendor: str) -> dict[str, str]:
    """The statements for this database (built once per process)."""
    now = sql_now()
    claim_set = (
        f"status = %s, attempts = {_ROW}.attempts + 1, updated_at = {now}, "
        f"eligible_at = NULL, lookup_first = {_ROW}.create_sent, "
        f"create_sent = CASE WHEN {_ROW}.action = %s AND {_ROW}.steps_done = 0 THEN %s "
        f"ELSE {_ROW}.create_sent END"
    )
    # A duplicate message of a row that was handed back since must not start it early.
    claim_where = (
        f"{_ROW}.id = %s AND {_ROW}.status = %s "
        f"AND ({_ROW}.eligible_at IS NULL OR {_ROW}.eligible_at <= {now})"
    )
    returning = ", ".join(f"{_ROW}.{name}" for name in _CLAIM_FIELDS)
    fence = "WHERE id = %s AND status = %s AND attempts = %s"
    return {
        "claim": f"UPDATE {_ROW} SET {claim_set} WHERE {claim_where} RETURNING {returning}",
        # On PostgreSQL the claim also returns the run's state (one statement instead of two).
        "claim_with_run": (
            f"UPDATE {_ROW} SET {claim_set} FROM {_RUN} r JOIN {_COMPANY} c "
            f"ON c.id = r.company_id WHERE {claim_where} AND r.id = {_ROW}.run_id "
            f"RETURNING {returning}, r.status, r.error, r.company_id, c.updated_at"
        ),
        "run_state": (
            f"SELECT r.status, r.error, r.company_id, c.updated_at FROM {_RUN} r "
            f"JOIN {_COMPANY} c ON c.id = r.company_id WHERE r.id = %s"
        ),
        "progress": (
            f"UPDATE {_ROW} SET steps_done = %s, sr_user_id = %s, email_started = %s, "
            f"updated_at = {now} {fence}"
        ),
        "hand_back": (
            f"UPDATE {_ROW} SET status = %s, eligible_at = {sql_later()}, queued_at = NULL, "
            f"failures = failures + %s, steps_done = %s, sr_user_id = %s, email_started = %s, "
            f"create_sent = %s, updated_at = {now} {fence}"
        ),
        "run_counters": f"UPDATE {_RUN} SET {_RUN_COUNTERS.format(now=now)} WHERE id = %s",
        # The run's row is locked first (one lock order: the run, then its rows).
        "lock_window": (
            f"SELECT c.rate_limit_concurrency, r.rows_dispatched - r.rows_returned FROM {_RUN} r "
            f"JOIN {_COMPANY} c ON c.id = r.company_id WHERE r.id = %s AND r.status = %s"
            + (" FOR UPDATE OF r" if vendor == "postgresql" else "")
        ),
        "take_due": (
            f"UPDATE {_ROW} SET eligible_at = NULL, queued_at = {now} "
            f"WHERE run_id = %s AND status = %s AND eligible_at <= {now} RETURNING id"
        ),
        "take_pending": (
            f"UPDATE {_ROW} SET status = %s, queued_at = {now} WHERE id IN "
            f"(SELECT id FROM {_ROW} WHERE run_id = %s AND status = %s ORDER BY line LIMIT %s) "
            "RETURNING id"
        ),
        "dispatched": (
            f"UPDATE {_RUN} SET rows_dispatched = rows_dispatched + %s, updated_at = {now} "
            "WHERE id = %s"
        ),
        "runs_due": (
            f"SELECT DISTINCT w.run_id FROM {_ROW} w JOIN {_RUN} r ON r.id = w.run_id "
            f"WHERE w.status = %s AND w.eligible_at IS NOT NULL AND w.eligible_at <= {now} "
            "AND r.status = %s"
        ),
    }


def _concrete_field(name: str) -> Field:
    field = ImportRow._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 (a row's own column, never a relation)
    return field


def _fetchone(sql: str, params: Sequence[Any]) -> tuple | None:
    """Run one statement; the first row it returns (None when it returns none)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _fetchall(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _fenced(sql: str, params: Sequence[Any], row: ImportRow) -> None:
    """Run a write of a claimed row; `RowLost` when the claim is no longer this worker's."""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, row.pk, _S.SENDING, row.attempts])
        if cursor.rowcount != 1:
            raise RowLost(f"row {row.pk}: attempt {row.attempts} no longer holds it")


def row_claim(*, row_id: int) -> tuple[ImportRow, RunState] | None:
    """Claim a `queued` row for sending: the row with what applying it needs (`attempts` is the
    claim's fencing token) and its run's state, or None when it was not `queued` or not due yet
    (a duplicate delivery, or a row already handed to another attempt)."""
    sql = _sql(connection.vendor)
    params = [_S.SENDING, ImportRow.Action.CREATE, True, row_id, _S.QUEUED]
    if connection.vendor == "postgresql":
        found = _fetchone(sql["claim_with_run"], params)
        if found is None:
            return None
        row_values, state = found[: len(_CLAIM_FIELDS)], RunState(*found[len(_CLAIM_FIELDS) :])
    else:
        claimed_values = _fetchone(sql["claim"], params)
        if claimed_values is None:
            return None
        row_values, state = claimed_values, None
    values = dict(zip(_CLAIM_FIELDS, row_values, strict=True))
    values["payload"] = ImportRow._meta.get_field("payload").from_db_value(
        values["payload"], None, connection
    )
    values["lookup_first"] = bool(values["lookup_first"])
    values["create_sent"] = bool(values["create_sent"])
    values["email_started"] = bool(values["email_started"])
    row = ImportRow.from_db(connection.alias, _CLAIM_FIELDS, list(values.values()))
    return row, state or run_state(run_id=row.run_id)


def run_state(*, run_id: int) -> RunState:
    found = _fetchone(_sql(connection.vendor)["run_state"], [run_id])
    if found is None:
        raise ImportRun.DoesNotExist(f"run {run_id} does not exist")
    return RunState(*found)


def row_progress(*, row: ImportRow) -> None:
    """Record the row's progress (steps done, the user's id, an activation email about to go
    out), so a later attempt resumes after it and never sends that email again. Fenced."""
    _fenced(
        _sql(connection.vendor)["progress"],
        [row.steps_done, row.sr_user_id, row.email_started],
        row,
    )


def row_hand_back(*, row: ImportRow, after: float, failed: bool, create_unsent: bool) -> None:
    """Put the row back in its run's window as `queued`, to be sent again `after` seconds from
    now (database clock) by the dispatcher; `failed` counts the attempt toward the limit.
    `create_unsent`: this attempt certainly did not send its create (no slot, or a 429), so the
    next one need not look the user up first. Fenced."""
    _fenced(
        _sql(connection.vendor)["hand_back"],
        [
            _S.QUEUED,
            max(0.0, after),
            int(failed),
            row.steps_done,
            row.sr_user_id,
            row.email_started,
            # The claim marked the create as perhaps sent; an earlier attempt's mark stays.
            row.lookup_first if create_unsent else row.create_sent,
        ],
        row,
    )


def row_end(*, row: ImportRow, **fields: Any) -> Counters | None:
    """Move a `sending` row of this attempt to its final state (`fields`: status, message, ...)
    and count it in its run, in one statement; the run's counters after it.

    None when the attempt no longer holds the row (the sweeper handed it on, or it ended).
    """
    status = fields["status"]
    counts = [int(status == _S.ERROR), int(status == _S.SKIPPED)]
    columns = {name: _concrete_field(name) for name in fields}
    values: list[Any] = [
        columns[name].get_db_prep_save(value, connection) for name, value in fields.items()
    ]
    now = sql_now()
    assignments = ", ".join(f"{columns[name].column} = %s" for name in fields)
    assignments += f", updated_at = {now}"
    fence: list[Any] = [row.pk, _S.SENDING, row.attempts]
    if connection.vendor == "postgresql":
        return _fetchone(
            f"WITH ended AS (UPDATE {_ROW} SET {assignments} "
            "WHERE id = %s AND status = %s AND attempts = %s RETURNING run_id) "
            f"UPDATE {_RUN} SET {_RUN_COUNTERS.format(now=now)} FROM ended "
            f"WHERE {_RUN}.id = ended.run_id {_RETURNING}",
            [*values, *fence, *counts],
        )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_ROW} SET {assignments} WHERE id = %s AND status = %s AND attempts = %s",
                [*values, *fence],
            )
            if cursor.rowcount != 1:
                return None
        return _fetchone(
            f"{_sql(connection.vendor)['run_counters']} {_RETURNING}", [*counts, row.run_id]
        )


def run_lock_window(*, run_id: int) -> tuple[int, int] | None:
    """Lock a running run's row (inside a transaction) and return its company's concurrency and
    its rows in flight; None when the run is not running."""
    found = _fetchone(_sql(connection.vendor)["lock_window"], [run_id, ImportRun.Status.RUNNING])
    return (int(found[0]), int(found[1])) if found else None


def rows_take_due(*, run_id: int) -> list[int]:
    """The run's waiting rows whose time has come, marked as sent now (the run is locked)."""
    return [pk for (pk,) in _fetchall(_sql(connection.vendor)["take_due"], [run_id, _S.QUEUED])]


def rows_take_pending(*, run_id: int, count: int) -> list[int]:
    """The run's next `count` pending rows, moved to `queued` and counted as dispatched."""
    sql = _sql(connection.vendor)
    ids = [pk for (pk,) in _fetchall(sql["take_pending"], [_S.QUEUED, run_id, _S.PENDING, count])]
    if ids:
        _fetchone(sql["dispatched"], [len(ids), run_id])
    return ids


def runs_with_due_rows() -> list[int]:
    """Running runs that have a waiting row whose time has come (database clock)."""
    return [
        run_id
        for (run_id,) in _fetchall(
            _sql(connection.vendor)["runs_due"], [_S.QUEUED, ImportRun.Status.RUNNING]
        )
    ]
