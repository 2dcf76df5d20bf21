"""Benchmark: the shared rate limiter against the emulator, several processes, one credential.

    .venv/bin/python bench/ratelimit.py            # 60 s, 4 processes x 2 threads
    .venv/bin/python bench/ratelimit.py --seconds 10

Starts the emulator on a free loopback port (10 req/s, 8 concurrent, latency 100-400 ms), then
4 processes x 2 threads call `GET /users/me` through `SmartRecruitersClient` and one
`RateLimiter` in Redis (REDIS_URL, else redis://127.0.0.1:6379/0) for `--seconds`. Prints the
achieved rate as a share of the limit, the 429 count, and the highest one-second window and
concurrency the emulator saw. Target: >= 95 % of the limit, 0 x 429, no window above the limit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from user2smart.smartrecruiters.auth import ApiKey  # noqa: E402
from user2smart.smartrecruiters.client import SmartRecruitersClient  # noqa: E402
from user2smart.smartrecruiters.errors import SmartRecruitersError  # noqa: E402
from user2smart.smartrecruiters.ratelimit import DEFAULT_MARGIN_SECONDS, RateLimiter  # noqa: E402

API_KEY = "bench-api-key-not-a-secret"
COMPANY = {
    "id": "bench",
    "name": "Bench Inc.",
    "api_keys": [API_KEY],
    "me": "admin@bench.example",
    "users": [
        {
            "email": "admin@bench.example",
            "firstName": "Ada",
            "lastName": "Admin",
            "systemRole": {"id": "ADMINISTRATOR"},
            "active": True,
        }
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_emulator(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "user2smart.smartrecruiters.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise SystemExit("The emulator did not start.") from None
            time.sleep(0.1)


class TimedLimiter(RateLimiter):
    """The limiter, noting the wall-clock moment each slot is granted."""

    def __init__(self, *args: object, starts: list[float], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.starts = starts

    @contextlib.contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        with super().slot(timeout):
            self.starts.append(time.time())
            yield


def worker(options: dict, start_at: float, results: multiprocessing.Queue) -> None:
    """One process: `threads` threads calling GET /users/me until `start_at + seconds`."""
    connection = redis.Redis.from_url(options["redis_url"], socket_timeout=5)
    counts = {"ok": 0, "429": 0, "other": 0}
    starts: list[float] = []  # list.append is atomic: the threads share it
    lock = threading.Lock()
    stop_at = start_at + options["seconds"]

    def run() -> None:
        limiter = TimedLimiter(
            connection,
            options["key"],
            rps=options["rps"],
            concurrency=options["concurrency"],
            prefix=options["prefix"],
            margin_seconds=options["margin"],
            starts=starts,
        )
        with SmartRecruitersClient(
            ApiKey(API_KEY), base_url=options["url"], limiter=limiter, timeout=(5, 30)
        ) as client:
            while time.time() < stop_at:
                outcome = "ok"
                try:
                    client.me()
                except SmartRecruitersError as exc:
                    outcome = "429" if exc.status == 429 else "other"
                with lock:
                    counts[outcome] += 1

    time.sleep(max(0.0, start_at - time.time()))
    threads = [threading.Thread(target=run) for _ in range(options["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((counts, starts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="at least 5")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rps", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=int, nargs=2, default=[100, 400], metavar=("MIN", "MAX"))
    parser.add_argument("--margin", type=float, default=DEFAULT_MARGIN_SECONDS)
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    if args.seconds < 5:
        parser.error("--seconds must be at least 5")

    port = free_port()
    emulator = start_emulator(port)
    url = f"http://127.0.0.1:{port}"
    prefix = f"bench-ratelimit-{uuid.uuid4().hex}"
    connection = redis.Redis.from_url(args.redis_url, socket_timeout=5)
    try:
        company = {**COMPANY, "rate_limit": {"rps": args.rps, "concurrent": args.concurrency}}
        control = requests.Session()
        control.post(f"{url}/_emulator/reset", json={"companies": [company]}, timeout=10)
        faults = {"latency_ms": args.latency}
        control.post(f"{url}/_emulator/faults", json=faults, timeout=10).raise_for_status()
        options = {
            "url": url,
            "redis_url": args.redis_url,
            "key": "bench",
            "prefix": prefix,
            "rps": args.rps,
            "concurrency": args.concurrency,
            "threads": args.threads,
            "seconds": args.seconds,
            "margin": args.margin,
        }
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        start_at = time.time() + 3  # every process ready before the clock starts
        processes = [
            context.Process(target=worker, args=(options, start_at, results))
            for _ in range(args.processes)
        ]
        for process in processes:
            process.start()
        time.sleep(max(0.0, start_at - time.time() - 0.5))
        control.delete(f"{url}/_emulator/stats", timeout=10).raise_for_status()
        counts = {"ok": 0, "429": 0, "other": 0}
        starts: list[float] = []
        for _ in processes:
            process_counts, process_starts = results.get(timeout=args.seconds + 120)
            for name, value in process_counts.items():
                counts[name] += value
            starts += process_starts
        for process in processes:
            process.join(30)
        stats = control.get(f"{url}/_emulator/stats", timeout=10).json()
    finally:
        emulator.terminate()
        emulator.wait(10)
        for key in connection.scan_iter(f"{prefix}:*"):
            connection.delete(key)

    credential = next(iter(stats.get("credentials", {}).values()), {})
    served = credential.get("requests", sum(counts.values()))
    # The steady rate: from the first to the last request started after the first two seconds
    # (the window starts empty, so the first second allows a burst of `rps` above the rate).
    steady = sorted(t for t in starts if t >= start_at + 2)
    rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    print(
        f"{args.processes} processes x {args.threads} threads, {args.seconds:g} s, limit "
        f"{args.rps} req/s and {args.concurrency} in flight, latency {args.latency[0]}-"
        f"{args.latency[1]} ms, margin {args.margin * 1000:.0f} ms"
    )
    print(f"requests served:        {served} ({served / args.seconds:.2f} req/s overall)")
    print(f"steady rate (after 2 s): {rate:.2f} req/s")
    print(f"share of the limit:     {rate / args.rps:.1%}")
    print(f"429 answers:            {stats.get('throttled', counts['429'])}")
    print(f"other errors:           {counts['other']}")
    print(f"highest 1 s window:     {credential.get('max_requests_1s')} (limit {args.rps})")
    print(f"highest concurrency:    {credential.get('max_concurrency')} (limit {args.concurrency})")
    print(json.dumps({"client_counts": counts, "emulator": credential}))


if __name__ == "__main__":
    main()
