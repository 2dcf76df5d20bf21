"""How the client reports what went wrong: 429s, 5xx, proxy pages, timeouts, opt-in retries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
import requests
from django.conf import settings

from tests.fixtures.emulator import ACME_API_KEY, acme_company, default_state
from user2smart.smartrecruiters import client as client_module
from user2smart.smartrecruiters.auth import ApiKey
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import (
    RejectedError,
    RetryableError,
    error_for_response,
    parse_retry_after,
)
from user2smart.smartrecruiters.ratelimit import RateLimiter, RateLimitWaitTimeout

pytestmark = pytest.mark.integration

NEW_USER = {
    "email": "grace.hopper@acme.example",
    "firstName": "Grace",
    "lastName": "Hopper",
    "systemRole": {"id": "STANDARD"},
}


@pytest.fixture
def client(emulator) -> Iterator[SmartRecruitersClient]:
    with SmartRecruitersClient(
        ApiKey(ACME_API_KEY), base_url=emulator.url, timeout=(2, 10)
    ) as client:
        yield client


@pytest.fixture
def limiter() -> Iterator[RateLimiter]:
    """A limiter of this test alone in the session's Redis; its keys are removed afterwards."""
    connection = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    prefix = f"test-client-{uuid.uuid4().hex}"
    yield RateLimiter(connection, "acme", prefix=prefix)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)
    connection.close()


def test_a_429_with_retry_after_is_retryable_after_that_wait(emulator, client):
    emulator.faults(throttle_rate=1.0)

    with pytest.raises(RetryableError) as caught:
        client.me()

    assert caught.value.status == 429
    assert caught.value.throttled
    assert caught.value.retry_after == 1.0
    assert "TOO_MANY_REQUESTS" in str(caught.value)


def test_a_429_without_retry_after_leaves_the_wait_to_the_caller(emulator, client):
    emulator.faults(throttle_rate=1.0, throttle_retry_after=False)

    with pytest.raises(RetryableError) as caught:
        client.me()

    assert caught.value.status == 429
    assert caught.value.retry_after is None


def test_a_429_makes_every_process_of_the_credential_back_off(emulator, limiter):
    emulator.faults(throttle_rate=1.0)
    throttled = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url, limiter=limiter)

    with pytest.raises(RetryableError):
        throttled.me()

    emulator.faults()
    elsewhere = RateLimiter(limiter.redis, "acme", prefix=limiter.prefix)
    with pytest.raises(RateLimitWaitTimeout), elsewhere.slot(timeout=0.5):
        pass
    with elsewhere.slot(timeout=3):
        pass


def test_a_429_without_retry_after_backs_off_exponentially(emulator, limiter):
    emulator.faults(throttle_rate=1.0, throttle_retry_after=False)
    throttled = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url, limiter=limiter)

    with pytest.raises(RetryableError):
        throttled.me()

    assert limiter.backoff(None) == pytest.approx(1.0, abs=0.1)  # still the first wait


def test_server_errors_are_retryable_and_proxy_pages_read_cleanly(emulator, client):
    emulator.reset(default_state(acme_company(rate_limit=None)))
    emulator.faults(error_rate=1.0)
    errors: dict[int, set[str]] = {}

    for _ in range(40):
        with pytest.raises(RetryableError) as caught:
            client.me()
        assert caught.value.retry_after is None
        errors.setdefault(caught.value.status, set()).add(str(caught.value))

    assert set(errors) == {500, 502, 503}
    assert "GET /users/me failed: HTTP 502: 502 Bad Gateway" in errors[502]
    assert any("INTERNAL_ERROR" in message for message in errors[500])
    assert all("<" not in message for messages in errors.values() for message in messages)


def test_a_call_that_outlasts_the_read_timeout_is_retryable(emulator):
    emulator.faults(timeout_rate=1.0, timeout_hold_ms=2000)
    impatient = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url, timeout=(2, 0.3))

    with pytest.raises(RetryableError) as caught:
        impatient.me()

    assert caught.value.status is None
    assert "timed out" in str(caught.value)


def test_an_unreachable_server_is_retryable(emulator):
    closed = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url="http://127.0.0.1:9")

    with pytest.raises(RetryableError) as caught:
        closed.me()

    assert "could not connect" in str(caught.value)


def test_without_retries_a_call_is_sent_once(emulator, client):
    emulator.faults(error_rate=1.0)

    with pytest.raises(RetryableError):
        client.me()

    assert sum(emulator.stats()["requests"]["GET /users/me"].values()) == 1


def test_opt_in_retries_repeat_a_read_with_backoff(emulator, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY_BASE_SECONDS", 0.01)
    emulator.faults(error_rate=1.0)
    patient = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url, retries=2)

    with pytest.raises(RetryableError):
        patient.me()

    assert sum(emulator.stats()["requests"]["GET /users/me"].values()) == 3


def test_opt_in_retries_never_repeat_a_create_that_may_have_happened(emulator, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY_BASE_SECONDS", 0.01)
    emulator.faults(create_then_timeout_rate=1.0, timeout_hold_ms=1000)
    patient = SmartRecruitersClient(
        ApiKey(ACME_API_KEY), base_url=emulator.url, retries=3, timeout=(2, 0.3)
    )

    with pytest.raises(RetryableError):
        patient.create_user(NEW_USER)

    stats = emulator.stats()
    assert stats["creates_by_email"] == {NEW_USER["email"]: 1}
    assert stats["credentials"][emulator.api_key_label]["requests"] == 1


def test_opt_in_retries_repeat_a_throttled_create(emulator, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY_BASE_SECONDS", 0.01)
    emulator.faults(throttle_rate=1.0, throttle_retry_after=False)
    patient = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url, retries=2)

    with pytest.raises(RetryableError):
        patient.create_user(NEW_USER)

    assert emulator.stats()["requests"]["POST /users"] == {"429": 3}
    assert emulator.user(NEW_USER["email"]) is None


def answer(status: int, body: bytes = b"", **headers: str) -> requests.Response:
    """An HTTP answer as requests builds it, for the parsing rules the emulator never sends."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return response


NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "Sat, 01 Mar 2025 12:00:30 GMT"}, 30.0),
        ({"Retry-After": "Sat, 01 Mar 2025 11:00:00 GMT"}, 0.0),
        ({"Retry-After": "86400"}, 600.0),
        ({"Retry-After": "soon"}, None),
        ({"X-RateLimit-Reset": "2"}, 2.0),
        ({"X-RateLimit-Reset": str(int(NOW.timestamp()) + 5)}, 5.0),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_either_header(headers, seconds):
    assert parse_retry_after(headers, now=NOW) == seconds


def test_a_429_with_an_exhausted_window_and_no_retry_after_waits_a_second():
    error = error_for_response(answer(429, X_RateLimit_Remaining="0"), what="GET /users")

    assert isinstance(error, RetryableError)
    assert error.retry_after == 1.0


def test_an_oauth_error_body_gives_its_error_as_the_code():
    body = b'{"error": "invalid_grant", "error_description": "The code is used."}'

    error = error_for_response(answer(400, body), what="POST /identity/oauth/token")

    assert isinstance(error, RejectedError)
    assert error.code == "invalid_grant"
    assert (
        str(error) == "POST /identity/oauth/token failed: HTTP 400 invalid_grant: The code is used."
    )


def test_a_plain_text_error_body_is_kept_short_and_on_one_line():
    error = error_for_response(answer(503, b"upstream\nconnect error " * 40), what="GET /users")

    assert isinstance(error, RetryableError)
    assert "\n" not in str(error)
    assert len(str(error)) < 200
