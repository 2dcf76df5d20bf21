"""Several processes share one credential's limiter: what the emulator sees stays in the limits."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from tests.fixtures.emulator import ACME_API_KEY, acme_company, default_state
from user2smart.smartrecruiters.auth import ApiKey
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import SmartRecruitersError
from user2smart.smartrecruiters.ratelimit import RateLimiter

pytestmark = pytest.mark.integration

PROCESSES = 4
THREADS = 2


@pytest.fixture
def prefix() -> Iterator[str]:
    value = f"test-ratelimit-emulator-{uuid.uuid4().hex}"
    yield value
    connection = redis.Redis.from_url(settings.REDIS_URL)
    for key in connection.scan_iter(f"{value}:*"):
        connection.delete(key)
    connection.close()


def hammer_process(options: dict, results: multiprocessing.Queue) -> None:
    """One process: THREADS threads calling GET /users/me through the shared limiter."""
    connection = redis.Redis.from_url(options["redis_url"], socket_timeout=5)
    outcomes: list[str] = []
    stop_at = time.monotonic() + options["seconds"]

    def run() -> None:
        limiter = RateLimiter(
            connection,
            "acme",
            rps=options["rps"],
            concurrency=options["concurrency"],
            prefix=options["prefix"],
        )
        with SmartRecruitersClient(
            ApiKey(ACME_API_KEY), base_url=options["url"], limiter=limiter, timeout=(5, 30)
        ) as client:
            while time.monotonic() < stop_at:
                try:
                    client.me()
                    outcomes.append("ok")
                except SmartRecruitersError as exc:
                    outcomes.append(str(exc.status))

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(outcomes)


def hammer(emulator, prefix: str, *, rps: int, concurrency: int, seconds: float) -> list[str]:
    options = {
        "url": emulator.url,
        "redis_url": settings.REDIS_URL,
        "prefix": prefix,
        "rps": rps,
        "concurrency": concurrency,
        "seconds": seconds,
    }
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=hammer_process, args=(options, results)) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [o for _ in processes for o in results.get(timeout=seconds + 60)]
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    return outcomes


def test_four_processes_stay_within_ten_per_second_and_eight_in_flight(emulator, prefix):
    emulator.faults(latency_ms=[100, 400])

    outcomes = hammer(emulator, prefix, rps=10, concurrency=8, seconds=4)

    seen = emulator.stats()["credentials"][emulator.api_key_label]
    assert set(outcomes) == {"ok"}
    assert seen["throttled"] == 0
    assert seen["max_requests_1s"] == 10  # at the limit, never above it
    assert seen["max_concurrency"] <= 8


def test_four_processes_share_the_in_flight_slots(emulator, prefix):
    emulator.reset(default_state(acme_company(rate_limit={"rps": 10, "concurrent": 3})))
    emulator.faults(latency_ms=[300, 600])

    outcomes = hammer(emulator, prefix, rps=10, concurrency=3, seconds=3)

    seen = emulator.stats()["credentials"][emulator.api_key_label]
    assert set(outcomes) == {"ok"}
    assert seen["throttled"] == 0
    assert seen["max_concurrency"] == 3
