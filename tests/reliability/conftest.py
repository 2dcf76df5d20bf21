"""Runs under faults: killed workers, a restarted Redis, a failing SmartRecruiters.

Each test starts real worker processes and a real beat (whose sweeper puts lost rows back), with
short sweeper deadlines so that recoveries happen within seconds.
"""

from __future__ import annotations

import time

import pytest
from django.db.models import Count

from imports.models import ImportRow, ImportRun
from tests.imports.runs.conftest import bulk_acme, write_file  # noqa: F401

SWEEP_ENV = {
    "IMPORT_SWEEP_SECONDS": "1",
    "IMPORT_QUEUED_DEADLINE_SECONDS": "5",
    "IMPORT_SENDING_DEADLINE_SECONDS": "12",
    "IMPORT_ROW_TIME_LIMIT": "10",
    "IMPORT_RETRY_MAX_SECONDS": "2",
}


def wait_for(predicate, timeout: float, what: str, poll: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def run_state(run_id: int) -> ImportRun:
    return ImportRun.objects.get(pk=run_id)


def wait_until_ended(run_id: int, timeout: float = 180) -> ImportRun:
    try:
        return wait_for(
            lambda: (run := run_state(run_id)).finished_at is not None and run,
            timeout,
            f"run {run_id} to end",
        )
    except AssertionError as exc:
        run = run_state(run_id)
        rows = dict(
            ImportRow.objects.filter(run_id=run_id)
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        raise AssertionError(
            f"{exc}: {run.status}, {run.rows_done}/{run.rows_total} done, "
            f"{run.rows_dispatched - run.rows_returned} in flight, rows {rows}"
        ) from None


@pytest.fixture
def recovery(start_worker, start_beat):
    """Start a worker (8 children) and beat, both with short sweeper deadlines."""

    def start(**env: str):
        worker = start_worker(concurrency=8, **SWEEP_ENV, **env)
        beat = start_beat(**SWEEP_ENV, **env)
        return worker, beat

    return start
