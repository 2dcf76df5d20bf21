"""The database's clock: the one clock every process agrees on.

Leases, eligible-at times and scheduled times are taken from it and compared with it, so a worker
machine whose clock is off decides nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection


def sql_now() -> str:
    """The database's clock as SQL (with `%` escaped for a statement that has parameters)."""
    if connection.vendor == "postgresql":
        return "statement_timestamp()"
    return "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')"


def sql_later() -> str:
    """The database's clock plus `%s` seconds (one float parameter), as SQL."""
    if connection.vendor == "postgresql":
        return "statement_timestamp() + make_interval(secs => %s)"
    return "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW', printf('%%+.3f seconds', %s))"


def db_now() -> datetime:
    """The database's current time (aware, UTC)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql_now()}".replace("%%", "%"))
        (value,) = cursor.fetchone()
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
