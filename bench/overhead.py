"""Benchmark: the product's own cost per row, next to a no-op Celery task.

    .venv/bin/python bench/overhead.py [--rows 5000]

The emulator runs without rate limit or latency, the company's limit is raised out of the way
(1,000 req/s, 16 in flight), and 2 worker processes (8 children each) apply a file of new users
(create + activate: 2 calls a row). In the same run, the same workers execute as many no-op tasks
(`user2smart.ping`); the figure is rows/s as a share of no-op tasks/s. Target: >= 20 %.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

API_KEY = "bench-overhead-key-not-a-secret"
DOMAIN = "overhead.example"


def noop_rate(count: int) -> float:
    from user2smart.celery import ping
    from user2smart.redis_client import get_redis

    key = uuid.uuid4().hex
    redis = get_redis()
    started = time.monotonic()
    for n in range(count):
        ping.delay(f"{key}-{n}")
    last = f"user2smart:ping:{key}-"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        # The last task sent is (nearly always) the last one run: poll for it alone, cheaply.
        if redis.exists(f"{last}{count - 1}"):
            while sum(1 for _ in redis.scan_iter(f"{last}*", count=1000)) < count:
                time.sleep(0.01)
            return count / (time.monotonic() - started)
        time.sleep(0.1)
    raise RuntimeError("no-op tasks did not finish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8, help="children per worker")
    args = parser.parse_args()
    harness.setup_django()
    from user2smart.companies.services import company_save

    emulator = harness.Emulator()
    try:
        emulator.reset({"companies": [harness.company_doc("overhead", API_KEY, [], None)]})
        company = company_save(
            slug="overhead",
            name="Overhead",
            api_url=emulator.url,
            api_key=API_KEY,
            rps=1000,
            concurrency=16,
        ).company
        path = harness.csv_file([harness.bench_row(i, DOMAIN) for i in range(args.rows)])
        with harness.workers(2, args.concurrency):
            noop = noop_rate(args.rows)
            started = time.monotonic()
            run = harness.start_import(company, path)
            ended = harness.wait_finished(run)
            noop_after = noop_rate(args.rows)
        stats = emulator.stats()
    finally:
        emulator.stop()
    rows_rate = run.rows_total / (ended - started)
    baseline = (noop + noop_after) / 2
    creates = stats["creates_by_email"]
    print(
        f"run {run.pk}: {run.status} {run.result}, {run.rows_total} rows in "
        f"{ended - started:.1f} s (plan included); {len(creates)} users created, "
        f"most creates for one email: {max(creates.values())}"
    )
    plan = (run.planned_at - run.created_at).total_seconds()
    apply = (run.finished_at - run.started_at).total_seconds()
    print(f"planning {plan:.1f} s; applying {apply:.1f} s = {run.rows_total / apply:.0f} rows/s")
    print(f"no-op task rate: {noop:.0f}/s before, {noop_after:.0f}/s after")
    print(f"rows/s: {rows_rate:.0f} = {100 * rows_rate / baseline:.1f} % of the no-op task rate")


if __name__ == "__main__":
    main()
