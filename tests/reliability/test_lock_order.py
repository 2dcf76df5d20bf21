"""Cancel and stop racing the dispatcher on PostgreSQL: one lock order, so no deadlock, no 500.

Threads with their own database connections play the parts: dispatchers topping a run's window
up (as finishing rows do, many at once) while the person presses Cancel. Before the lock order
was one (the dispatcher locked rows, then the run), PostgreSQL found a deadlock in nearly every
round.
"""

from __future__ import annotations

import io
import random
import threading
import time

import pytest
from django.db import connection, connections
from django.db.models import F

from imports import services
from imports.models import ImportRow, ImportRun
from imports.services import queue
from tests.imports.runs.files import csv_bytes, person

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="row locks: PostgreSQL only"
)
ROUNDS = 15
DISPATCHERS = 4


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr(queue, "rows_send", lambda ids: None)


def started_run(company) -> int:
    run = services.run_start(
        company=company,
        file=io.BytesIO(csv_bytes([person(i) for i in range(1000, 1400)])),
        file_name="people.csv",
        mode="upsert",
        source=ImportRun.Source.COMMAND,
        enqueue=False,
    )
    services.run_plan(run_id=run.pk)
    return run.pk


def dispatch_while_rows_come_back(run_id: int, go: threading.Barrier, errors: list) -> None:
    """The whole window comes back (as finishing rows do) and is topped up, 40 times."""
    try:
        go.wait()
        for _ in range(40):
            ImportRun.objects.filter(pk=run_id).update(rows_returned=F("rows_dispatched"))
            services.run_dispatch(run_id=run_id)
    except BaseException as exc:  # reported by the test
        errors.append(exc)
    finally:
        connections.close_all()


def test_cancel_racing_dispatchers_never_deadlocks(bulk_acme, no_broker):
    assert connection.vendor == "postgresql"
    for _ in range(ROUNDS):
        run_id = started_run(bulk_acme)
        errors: list[BaseException] = []
        go = threading.Barrier(DISPATCHERS + 1)
        threads = [
            threading.Thread(target=dispatch_while_rows_come_back, args=(run_id, go, errors))
            for _ in range(DISPATCHERS)
        ]
        for thread in threads:
            thread.start()
        go.wait()
        time.sleep(random.uniform(0, 0.05))
        try:
            assert services.run_cancel(run_id=run_id)
        finally:
            for thread in threads:
                thread.join(60)
        assert not errors, errors

        run = ImportRun.objects.get(pk=run_id)
        rows = ImportRow.objects.filter(run_id=run_id)
        # Cancelled, and every row not sent is skipped and counted once.
        assert run.status == ImportRun.Status.CANCELLED
        assert not rows.filter(status=ImportRow.Status.PENDING).exists()
        assert run.rows_skipped == rows.filter(status=ImportRow.Status.SKIPPED).count()
