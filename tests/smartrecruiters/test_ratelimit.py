"""The shared rate limiter against a real Redis (no HTTP): windows, leases, back-off, fallback."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.fixtures.services import free_port
from user2smart.smartrecruiters import ratelimit
from user2smart.smartrecruiters.ratelimit import RateLimiter, RateLimitWaitTimeout


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    """A Redis key prefix of this test alone; its keys are removed afterwards."""
    value = f"test-ratelimit-{uuid.uuid4().hex}"
    yield value
    for key in redis_client.scan_iter(f"{value}:*"):
        redis_client.delete(key)


def hammer(limiter: RateLimiter, threads: int, seconds: float, hold: float = 0.0) -> list[float]:
    """Start times (monotonic) of every slot `threads` threads got in `seconds`."""
    starts: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work() -> None:
        while time.monotonic() < stop:
            with limiter.slot():
                with lock:
                    starts.append(time.monotonic())
                time.sleep(hold)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(starts)


def busiest_second(starts: list[float]) -> int:
    best, first = 0, 0
    for last, moment in enumerate(starts):
        while moment - starts[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def test_no_window_of_one_second_sees_more_than_rps_starts(redis_client, prefix):
    limiter = RateLimiter(redis_client, "acme", rps=10, concurrency=8, prefix=prefix)

    starts = hammer(limiter, threads=12, seconds=2.5)

    assert busiest_second(starts) == 10
    assert starts[10] - starts[0] >= 1.0


def test_two_limiters_of_one_credential_share_the_window(redis_client, prefix):
    first = RateLimiter(redis_client, "acme", rps=4, concurrency=8, prefix=prefix)
    second = RateLimiter(redis_client, "acme", rps=4, concurrency=8, prefix=prefix)
    other = RateLimiter(redis_client, "globex", rps=4, concurrency=8, prefix=prefix)
    for _ in range(2):
        with first.slot(), second.slot():
            pass

    with pytest.raises(RateLimitWaitTimeout), first.slot(timeout=0.3):
        pass
    with other.slot(timeout=0.3):
        pass  # another credential has its own window


def test_in_flight_requests_never_exceed_the_concurrency(redis_client, prefix):
    limiter = RateLimiter(redis_client, "acme", rps=100, concurrency=3, prefix=prefix)
    in_flight, highest = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal in_flight, highest
        for _ in range(5):
            with limiter.slot():
                with lock:
                    in_flight += 1
                    highest = max(highest, in_flight)
                time.sleep(0.05)
                with lock:
                    in_flight -= 1

    workers = [threading.Thread(target=work) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert highest == 3
    assert redis_client.zcard(limiter.leases_key) == 0


def test_a_slot_is_returned_when_the_request_fails(redis_client, prefix):
    limiter = RateLimiter(redis_client, "acme", rps=10, concurrency=1, prefix=prefix)

    with pytest.raises(ConnectionError), limiter.slot():
        raise ConnectionError("the request failed")

    with limiter.slot(timeout=0.5):
        pass


def test_a_killed_process_gives_its_slot_back_when_its_lease_ends(redis_client, prefix):
    holder = textwrap.dedent(
        f"""
        import sys, time, redis
        from user2smart.smartrecruiters.ratelimit import RateLimiter
        limiter = RateLimiter(redis.Redis.from_url({settings.REDIS_URL!r}), "acme", rps=10,
                              concurrency=1, lease_seconds=1.5, prefix={prefix!r})
        with limiter.slot():
            print("holding", flush=True)
            time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "holding"
    finally:
        process.kill()
        process.wait(10)
    limiter = RateLimiter(redis_client, "acme", rps=10, concurrency=1, prefix=prefix)

    with pytest.raises(RateLimitWaitTimeout), limiter.slot(timeout=0.3):
        pass
    with limiter.slot(timeout=5):
        assert redis_client.zcard(limiter.leases_key) == 1


def test_a_backoff_stops_every_limiter_of_the_credential(redis_client, prefix):
    throttled = RateLimiter(redis_client, "acme", prefix=prefix)
    elsewhere = RateLimiter(redis_client, "acme", prefix=prefix)

    assert throttled.backoff(1.0) == pytest.approx(1.0, abs=0.05)

    with pytest.raises(RateLimitWaitTimeout), elsewhere.slot(timeout=0.5):
        pass
    with elsewhere.slot(timeout=2):
        pass


def test_backoff_without_retry_after_doubles_up_to_the_cap(redis_client, prefix, monkeypatch):
    monkeypatch.setattr(ratelimit, "BACKOFF_BASE_SECONDS", 0.1)
    monkeypatch.setattr(ratelimit, "BACKOFF_CAP_SECONDS", 0.3)
    limiter = RateLimiter(redis_client, "acme", prefix=prefix)
    waits = []
    for _ in range(4):
        waits.append(limiter.backoff())
        with limiter.slot(timeout=2):
            pass

    assert waits == pytest.approx([0.1, 0.2, 0.3, 0.3], abs=0.02)


def test_an_answer_between_429s_starts_the_waits_afresh(redis_client, prefix, monkeypatch):
    monkeypatch.setattr(ratelimit, "BACKOFF_BASE_SECONDS", 0.1)
    limiter = RateLimiter(redis_client, "acme", prefix=prefix)
    other_process = RateLimiter(redis_client, "acme", prefix=prefix)
    waits = []
    for _ in range(3):
        waits.append(limiter.backoff())
        with limiter.slot(timeout=2):
            pass
        limiter.succeeded()  # the request after the back-off was answered
        other_process.succeeded()  # costs nothing: that process never backed off

    assert waits == pytest.approx([0.1, 0.1, 0.1], abs=0.02)


def test_429s_of_one_burst_back_off_once(redis_client, prefix):
    limiter = RateLimiter(redis_client, "acme", prefix=prefix)

    waits = [limiter.backoff() for _ in range(8)]

    assert waits[0] == pytest.approx(1.0, abs=0.02)
    assert max(waits) <= 1.0


def test_without_redis_one_request_per_second_and_one_in_flight_per_process(caplog):
    unreachable = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    limiter = RateLimiter(unreachable, f"no-redis-{uuid.uuid4().hex}", rps=10, concurrency=8)
    starts: list[float] = []
    in_flight, highest = 0, 0
    lock = threading.Lock()

    def one_request() -> None:
        nonlocal in_flight, highest
        with limiter.slot():
            with lock:
                starts.append(time.monotonic())
                in_flight += 1
                highest = max(highest, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1

    with caplog.at_level(logging.WARNING, logger="user2smart.smartrecruiters.ratelimit"):
        workers = [threading.Thread(target=one_request) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    starts.sort()
    assert highest == 1
    assert starts[1] - starts[0] >= 0.99
    assert starts[2] - starts[1] >= 0.99
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "falls back to 1 request/s and 1 in flight" in warnings[0]


def test_a_wait_longer_than_the_timeout_is_given_up_at_once_with_the_wait(
    redis_client, prefix, monkeypatch
):
    limiter = RateLimiter(redis_client, "long-backoff", prefix=prefix)
    limiter.backoff(120)
    slept: list[float] = []
    monkeypatch.setattr(ratelimit.time, "sleep", slept.append)
    with pytest.raises(RateLimitWaitTimeout) as refused, limiter.slot(timeout=5):
        pass
    # Given up without sleeping through the 5 s (the back-off is known to last 120 s), and the
    # wait is handed to the caller, which can put its work aside until then.
    assert slept == []
    assert 100 < refused.value.retry_after <= 121


def test_every_slot_taken_is_waited_for_until_the_timeout_and_says_no_wait(redis_client, prefix):
    limiter = RateLimiter(redis_client, "full", concurrency=1, prefix=prefix)
    with limiter.slot(), pytest.raises(RateLimitWaitTimeout) as refused, limiter.slot(timeout=0.3):
        pass
    assert refused.value.retry_after is None
