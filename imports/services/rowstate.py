"""A row's final state and the run's counters, written together (the hot path of every run).

Every row of every run ends here, from every worker, on the same run row: on PostgreSQL it is
one statement (a data-modifying CTE, atomic on its own); elsewhere one short transaction.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from imports.models import ImportRow, ImportRun

Counters = tuple[int, int, int]  # rows done, rows in total, rows in flight

_RUN_COUNTERS = (
    "rows_done = rows_done + 1, rows_failed = rows_failed + %s, "
    "rows_skipped = rows_skipped + %s, rows_returned = rows_returned + 1, updated_at = %s"
)
_RETURNING = "RETURNING rows_done, rows_total, rows_dispatched - rows_returned"


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
                f"UPDATE {ImportRun._meta.db_table} SET {_RUN_COUNTERS} "  # noqa: S608
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
    run_table = ImportRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH ended AS (UPDATE {meta.db_table} SET {assignments} "  # noqa: S608
            "WHERE id = %s AND status = %s RETURNING run_id) "
            f"UPDATE {run_table} SET {_RUN_COUNTERS} FROM ended "
            f"WHERE {run_table}.id = ended.run_id {_RETURNING}",
            [*values, row.pk, ImportRow.Status.SENDING, *counts],
        )
        return cursor.fetchone()
