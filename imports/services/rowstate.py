"""The statements every row of every run executes: claim, step recorded, end (the hot path).

Each row runs them from every worker, so they are plain SQL: the ORM would spend more time
composing them than the database spends running them (docs/performance.md). They are
portable SQL (UPDATE ... RETURNING: PostgreSQL, SQLite >= 3.35) except the end, which on
PostgreSQL is one data-modifying statement and elsewhere one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from imports.models import ImportRow, ImportRun
from user2smart.companies.models import Company

Counters = tuple[int, int, int]  # rows done, rows in total, rows in flight

_ROW = ImportRow._meta.db_table
_RUN = ImportRun._meta.db_table
_COMPANY = Company._meta.db_table

# What applying a row reads, in the model's field order (Model.from_db defers the others).
_CLAIM_FIELDS = [
    f.attname
    for f in ImportRow._meta.concrete_fields
    if f.attname
    in {"id", "run_id", "action", "sr_user_id", "attempts", "steps_done", "lookup_first", "payload"}
]

# Claimed: `queued` -> `sending`. For a create not yet done it records that the create may be
# sent from now on; `lookup_first` keeps whether an earlier attempt had got that far (the SET
# expressions read the row as it was).
_CLAIM_SET = (
    f"status = %s, attempts = {_ROW}.attempts + 1, updated_at = %s, "
    f"lookup_first = {_ROW}.create_sent, create_sent = CASE WHEN {_ROW}.action = %s "
    f"AND {_ROW}.steps_done = 0 THEN %s ELSE {_ROW}.create_sent END"
)
_CLAIM_RETURNING = ", ".join(f"{_ROW}.{name}" for name in _CLAIM_FIELDS)
_CLAIM = (
    f"UPDATE {_ROW} SET {_CLAIM_SET} WHERE id = %s AND status = %s "  # noqa: S608
    f"RETURNING {_CLAIM_RETURNING}"
)
_RUN_STATE = (
    f"SELECT r.status, r.error, r.company_id, c.updated_at FROM {_RUN} r "  # noqa: S608
    f"JOIN {_COMPANY} c ON c.id = r.company_id WHERE r.id = %s"
)
# On PostgreSQL the claim also returns the run's state (one statement instead of two).
_CLAIM_WITH_RUN_STATE = (
    f"UPDATE {_ROW} SET {_CLAIM_SET} FROM {_RUN} r JOIN {_COMPANY} c "  # noqa: S608
    f"ON c.id = r.company_id WHERE {_ROW}.id = %s AND {_ROW}.status = %s "
    f"AND r.id = {_ROW}.run_id RETURNING {_CLAIM_RETURNING}, "
    "r.status, r.error, r.company_id, c.updated_at"
)
_WINDOW = (
    f"SELECT c.rate_limit_concurrency, r.rows_dispatched - r.rows_returned FROM {_RUN} r "  # noqa: S608
    f"JOIN {_COMPANY} c ON c.id = r.company_id WHERE r.id = %s AND r.status = %s"
)
_STEP_DONE = (
    f"UPDATE {_ROW} SET steps_done = %s, sr_user_id = %s, updated_at = %s "  # noqa: S608
    "WHERE id = %s AND status = %s"
)
_RUN_COUNTERS = (
    "rows_done = rows_done + 1, rows_failed = rows_failed + %s, "
    "rows_skipped = rows_skipped + %s, rows_returned = rows_returned + 1, updated_at = %s"
)
_RETURNING = "RETURNING rows_done, rows_total, rows_dispatched - rows_returned"


@dataclass(frozen=True)
class RunState:
    status: str
    error: str
    company_id: int
    company_version: object  # the company's `updated_at`: a saved change is seen at once


def _fetchone(sql: str, params: list) -> tuple | None:
    """Run one statement; the first row it returns (None when it returns none)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _now() -> object:
    return connection.ops.adapt_datetimefield_value(timezone.now())


def row_claim(row_id: int) -> tuple[ImportRow, RunState] | None:
    """Claim a `queued` row for sending: the row with what applying it needs and its run's
    state, or None when it was not `queued` (a duplicate delivery, or a row the sweeper put back
    and already done)."""
    params = [
        ImportRow.Status.SENDING,
        _now(),
        ImportRow.Action.CREATE,
        True,
        row_id,
        ImportRow.Status.QUEUED,
    ]
    if connection.vendor == "postgresql":
        found = _fetchone(_CLAIM_WITH_RUN_STATE, params)
        if found is None:
            return None
        row_values, state = found[: len(_CLAIM_FIELDS)], RunState(*found[len(_CLAIM_FIELDS) :])
    else:
        row_values = _fetchone(_CLAIM, params)
        if row_values is None:
            return None
        state = None
    values = dict(zip(_CLAIM_FIELDS, row_values, strict=True))
    values["payload"] = ImportRow._meta.get_field("payload").from_db_value(
        values["payload"], None, connection
    )
    values["lookup_first"] = bool(values["lookup_first"])
    row = ImportRow.from_db(connection.alias, _CLAIM_FIELDS, list(values.values()))
    return row, state or run_state(row.run_id)


def run_state(run_id: int) -> RunState:
    status, error, company_id, version = _fetchone(_RUN_STATE, [run_id])
    return RunState(status, error, company_id, version)


def run_window(run_id: int) -> tuple[int, int] | None:
    """A running run's company concurrency and rows in flight; None when it is not running."""
    return _fetchone(_WINDOW, [run_id, ImportRun.Status.RUNNING])


def row_step_done(row: ImportRow) -> None:
    """Record the row's progress, so a retry resumes after its last completed step."""
    _fetchone(
        _STEP_DONE, [row.steps_done, row.sr_user_id, _now(), row.pk, ImportRow.Status.SENDING]
    )


def end_row(row: ImportRow, **fields) -> Counters | None:
    """Move a `sending` row to its final state (`fields`: status, message, ...) and count it.

    None when the row was no longer `sending` (another copy of the task ended it).
    """
    now = timezone.now()
    status = fields["status"]
    counts = [int(status == ImportRow.Status.ERROR), int(status == ImportRow.Status.SKIPPED), now]
    if connection.vendor == "postgresql":
        return _end_row_in_one_statement(row, fields, counts, now)
    with transaction.atomic():
        ended = ImportRow.objects.filter(pk=row.pk, status=ImportRow.Status.SENDING).update(
            **fields, updated_at=now
        )
        if not ended:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_RUN} SET {_RUN_COUNTERS} "  # noqa: S608
                f"WHERE id = %s {_RETURNING}",
                [*counts, row.run_id],
            )
            return cursor.fetchone()


def _end_row_in_one_statement(row: ImportRow, fields: dict, counts: list, now) -> Counters | None:
    meta = ImportRow._meta
    names = [*fields, "updated_at"]
    values = [
        meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in [*fields.items(), ("updated_at", now)]
    ]
    assignments = ", ".join(f"{meta.get_field(name).column} = %s" for name in names)
    return _fetchone(
        f"WITH ended AS (UPDATE {_ROW} SET {assignments} "  # noqa: S608
        "WHERE id = %s AND status = %s RETURNING run_id) "
        f"UPDATE {_RUN} SET {_RUN_COUNTERS} FROM ended "
        f"WHERE {_RUN}.id = ended.run_id {_RETURNING}",
        [*values, row.pk, ImportRow.Status.SENDING, *counts],
    )
