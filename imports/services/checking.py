"""How far the check of a file is, for its run page: users read from SmartRecruiters, rows
checked of the file's rows.

A plan stores its rows in one transaction, so nothing it writes to the database is seen before
it ends; its progress is kept in Redis instead, under the run's id, written at most once a
second and forgotten when the plan ends. It is a hint for people: a Redis that lost it only
leaves the page with "Checking your file..." until the plan is stored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from user2smart.redis_client import get_redis

log = logging.getLogger(__name__)

KEEP_SECONDS = 3600
EVERY_SECONDS = 1.0
FIELDS = ("users_listed", "users_read_in_full", "rows_checked", "rows_total")


def _key(run_id: int) -> str:
    return f"user2smart:checking:{run_id}"


@dataclass(frozen=True)
class CheckProgress:
    users_listed: int = 0
    users_read_in_full: int = 0
    rows_checked: int = 0
    rows_total: int = 0  # 0 until the file's rows are counted

    @property
    def percent(self) -> int:
        return min(100, 100 * self.rows_checked // self.rows_total) if self.rows_total else 0


class CheckRecorder:
    """What one plan has done so far; `record(...)` writes it at most once a second."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.counts = dict.fromkeys(FIELDS, 0)
        self.last = 0.0

    def record(self, *, force: bool = False, **counts: int) -> None:
        self.counts.update(counts)
        now = time.monotonic()
        if not force and now - self.last < EVERY_SECONDS:
            return
        self.last = now
        try:
            get_redis().set(_key(self.run_id), _encode(self.counts), ex=KEEP_SECONDS)
        except redis.RedisError:
            log.warning("run %s: the progress of its check could not be kept", self.run_id)

    def forget(self) -> None:
        try:
            get_redis().delete(_key(self.run_id))
        except redis.RedisError:
            log.warning("run %s: the progress of its check could not be forgotten", self.run_id)


def check_progress(*, run_id: int) -> CheckProgress | None:
    """The run's check as last recorded; None before its first record (or without Redis)."""
    try:
        value = get_redis().get(_key(run_id))
    except redis.RedisError:
        return None
    if not value:
        return None
    text = value.decode("ascii") if isinstance(value, bytes) else str(value)
    parts = text.split(",")
    if len(parts) != len(FIELDS) or not all(part.isdigit() for part in parts):
        return None
    return CheckProgress(**dict(zip(FIELDS, map(int, parts), strict=True)))


def _encode(counts: dict[str, int]) -> str:
    return ",".join(str(counts[name]) for name in FIELDS)
