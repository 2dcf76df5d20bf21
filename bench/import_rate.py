"""Benchmark: an import run against SmartRecruiters' rate limit.

    .venv/bin/python bench/import_rate.py [--rows 2000]

A create-or-update file (40 % creates, 40 % updates, 20 % unchanged) against the emulator at
10 req/s, 8 concurrent, latency 100-400 ms, with 2 worker processes (8 children each). Prints
SmartRecruiters calls per row by action, the calls per second achieved as a share of the limit,
the 429 count, and the run's duration over the minimum possible (calls / 10 req/s).
Target: >= 95 % of the limit, 0 x 429, duration <= 1.1 x the minimum.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

API_KEY = "bench-rate-key-not-a-secret"
DOMAIN = "rate.example"
RPS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    harness.setup_django()
    from user2smart.companies.services import company_save

    creates = args.rows * 2 // 5
    updates = args.rows * 2 // 5
    unchanged = args.rows - creates - updates
    existing = updates + unchanged
    emulator = harness.Emulator()
    try:
        users = [harness.bench_user(i, DOMAIN) for i in range(existing)]
        emulator.reset(
            {
                "companies": [
                    harness.company_doc("rate", API_KEY, users, {"rps": RPS, "concurrent": 8})
                ]
            }
        )
        emulator.faults(latency_ms=[100, 400])
        company = company_save(
            slug="rate", name="Rate", api_url=emulator.url, api_key=API_KEY, rps=RPS, concurrency=8
        ).company
        rows = [harness.bench_row(i, DOMAIN, lastName=f"Renamed {i}") for i in range(updates)]
        rows += [harness.bench_row(i, DOMAIN) for i in range(updates, existing)]
        rows += [harness.bench_row(i, DOMAIN) for i in range(existing, existing + creates)]
        path = harness.csv_file(rows)
        with harness.workers(2, 8):
            emulator.clear_stats()
            started = time.monotonic()
            run = harness.start_import(company, path)
            ended = harness.wait_finished(run)
        stats = emulator.stats()
    finally:
        emulator.stop()

    requests = {key: sum(by.values()) for key, by in stats["requests"].items()}
    calls = sum(n for key, n in requests.items() if not key.startswith("POST /identity"))
    duration = ended - started
    minimum = calls / RPS
    reads = (
        requests.get("GET /users", 0)
        + requests.get("GET /system-roles", 0)
        + requests.get("GET /access-groups", 0)
    )
    label = next(iter(stats["credentials"]))
    credential = stats["credentials"][label]
    print(
        f"run {run.pk}: {run.status} {run.result}, {run.rows_total} rows "
        f"({run.count_create} create, {run.count_update} update, {run.count_unchanged} "
        f"unchanged, {run.count_error} error)"
    )
    print("calls by endpoint:", ", ".join(f"{k} {v}" for k, v in sorted(requests.items())))
    print(
        f"calls per row: create {(requests.get('POST /users', 0) + requests.get('PUT /users/{id}/activation', 0)) / max(run.count_create, 1):.2f}, "  # noqa: E501
        f"update {requests.get('PATCH /users/{id}', 0) / max(run.count_update, 1):.2f}, "
        f"unchanged 0 (writes: {calls - reads - requests.get('POST /users', 0) - requests.get('PUT /users/{id}/activation', 0) - requests.get('PATCH /users/{id}', 0)} other), "  # noqa: E501
        f"directory reads {reads}"
    )
    print(
        f"achieved: {calls / duration:.2f} calls/s = {100 * calls / duration / RPS:.1f} % of "
        f"the {RPS} req/s limit"
    )
    print(
        f"429 answers: {stats['throttled']}; highest 1-s window: "
        f"{credential['max_requests_1s']}; highest concurrency: {credential['max_concurrency']}"
    )
    print(
        f"duration {duration:.1f} s for {calls} calls; minimum {minimum:.1f} s; "
        f"ratio {duration / minimum:.3f}"
    )


if __name__ == "__main__":
    main()
