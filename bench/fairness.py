"""Benchmark: a small run of one company while another company's large run is under way.

    .venv/bin/python bench/fairness.py [--big 5000] [--small 10]

Company A (its own credential) starts a 5,000-row run of new users; once it is well under way,
company B (its own credential) starts a 10-row run. Both at 10 req/s and 8 in flight, latency
100-400 ms, 2 worker processes (8 children each). Prints B's duration next to the time its own
rate limit allows (its calls / 10 req/s). Target: B finishes within 3 s of that. A is cancelled
at the end.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

RPS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--big", type=int, default=5000)
    parser.add_argument("--small", type=int, default=10)
    args = parser.parse_args()
    harness.setup_django()
    from imports import services
    from user2smart.companies.services import company_save

    limit = {"rps": RPS, "concurrent": 8}
    emulator = harness.Emulator()
    try:
        emulator.reset(
            {
                "companies": [
                    harness.company_doc("big", "bench-big-key", [], limit),
                    harness.company_doc("small", "bench-small-key", [], limit),
                ]
            }
        )
        emulator.faults(latency_ms=[100, 400])
        big = company_save(
            slug="big", name="Big", api_url=emulator.url, api_key="bench-big-key"
        ).company
        small = company_save(
            slug="small", name="Small", api_url=emulator.url, api_key="bench-small-key"
        ).company
        big_file = harness.csv_file([harness.bench_row(i, "big.example") for i in range(args.big)])
        small_file = harness.csv_file(
            [harness.bench_row(i, "small.example") for i in range(args.small)]
        )
        with harness.workers(2, 8):
            big_run = harness.start_import(big, big_file)
            while True:  # well under way: planned and a few windows sent
                big_run.refresh_from_db()
                if big_run.rows_done - big_run.count_unchanged >= 40:
                    break
                time.sleep(0.2)
            emulator.clear_stats()
            started = time.monotonic()
            small_run = harness.start_import(small, small_file)
            ended = harness.wait_finished(small_run, timeout=600)
            stats = emulator.stats()
            big_run.refresh_from_db()
            services.run_cancel(run_id=big_run.pk)
            harness.wait_finished(big_run, timeout=120)
    finally:
        emulator.stop()

    small_calls = stats["credentials"].get("small/apikey-1", {}).get("requests", 0)
    big_calls = stats["credentials"].get("big/apikey-1", {}).get("requests", 0)
    allowed = small_calls / RPS
    took = ended - started
    print(
        f"A: {big_run.rows_total} rows, {big_calls} calls while B ran; B: {small_run.status} "
        f"{small_run.result}, {small_run.rows_total} rows, {small_calls} calls"
    )
    print(
        f"B took {took:.2f} s; its own limit allows {allowed:.2f} s; "
        f"over by {took - allowed:.2f} s (target <= 3 s)"
    )
    for label, figures in sorted(stats["credentials"].items()):
        print(
            f"{label}: {figures['requests']} requests, {figures['throttled']} x 429, highest "
            f"1-s window {figures['max_requests_1s']}, highest in flight "
            f"{figures['max_concurrency']}"
        )


if __name__ == "__main__":
    main()
