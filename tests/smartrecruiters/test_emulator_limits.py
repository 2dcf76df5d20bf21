"""The emulator enforces SmartRecruiters' per-credential limits and reports what it received."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.fixtures.emulator import (
    ACME_API_KEY_LABEL,
    ACME_CLIENT_ID,
    ACME_CLIENT_SECRET,
    acme_company,
    default_state,
)

pytestmark = pytest.mark.integration

HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Concurrent-Limit",
    "X-RateLimit-Concurrent-Remaining",
)


def limit(emulator, rps: int, concurrent: int) -> None:
    emulator.reset(
        default_state(acme=acme_company(rate_limit={"rps": rps, "concurrent": concurrent}))
    )


def test_every_answer_of_a_credential_carries_the_four_headers(emulator):
    limit(emulator, rps=4, concurrent=8)
    answers = [
        emulator.call("GET", "/users/me"),  # 200
        emulator.call("GET", "/users/0123456789abcdef01234567"),  # 404
        emulator.call("POST", "/users", json={}),  # 400
        emulator.call("PUT", "/users/0123456789abcdef01234567/activation"),  # 404
        emulator.call("GET", "/users/me"),  # 429
    ]

    assert [answer.status_code for answer in answers] == [200, 404, 400, 404, 429]
    for answer in answers:
        assert all(name in answer.headers for name in HEADERS), answer.headers
    assert answers[0].headers["X-RateLimit-Limit"] == "4"
    assert answers[0].headers["X-RateLimit-Concurrent-Limit"] == "8"
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == [
        "3",
        "2",
        "1",
        "0",
        "0",
    ]


def test_more_than_rps_requests_in_one_second_get_429_with_retry_after(emulator):
    responses = [emulator.call("GET", "/users/me") for _ in range(11)]

    assert [r.status_code for r in responses[:10]] == [200] * 10
    refused = responses[10]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["errors"][0]["code"] == "RATE_LIMIT_EXCEEDED"


def test_a_burst_of_30_from_several_threads_is_throttled_and_counted(emulator):
    limit(emulator, rps=10, concurrent=100)

    with ThreadPoolExecutor(5) as pool:
        statuses = list(
            pool.map(lambda _: emulator.call("GET", "/users/me").status_code, range(30))
        )

    throttled = statuses.count(429)
    stats = emulator.stats()
    mine = stats["credentials"][ACME_API_KEY_LABEL]
    assert throttled > 0
    assert statuses.count(200) + throttled == 30
    assert stats["throttled"] == mine["throttled"] == throttled
    assert mine["requests"] == 30
    assert stats["requests"]["GET /users/me"] == {"200": 30 - throttled, "429": throttled}
    assert mine["max_requests_1s"] > 10  # a 429 for the rate means 10 accepted + this one


def test_more_concurrent_requests_than_allowed_get_429(emulator):
    limit(emulator, rps=100, concurrent=2)
    emulator.faults(latency_ms=600)
    barrier = threading.Barrier(4)

    def call(_: int) -> requests.Response:
        barrier.wait()
        return emulator.call("GET", "/users/me")

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(call, range(4)))

    statuses = sorted(r.status_code for r in responses)
    refused = [r for r in responses if r.status_code == 429]
    assert statuses == [200, 200, 429, 429]
    assert all(r.json()["errors"][0]["code"] == "CONCURRENCY_LIMIT_EXCEEDED" for r in refused)
    assert emulator.stats()["credentials"][ACME_API_KEY_LABEL]["max_concurrency"] >= 3


def test_each_credential_of_a_company_has_its_own_limit(emulator):
    limit(emulator, rps=3, concurrent=8)
    token = requests.post(
        f"{emulator.url}/identity/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ACME_CLIENT_ID,
            "client_secret": ACME_CLIENT_SECRET,
        },
        timeout=10,
    ).json()["access_token"]

    with_key = [emulator.call("GET", "/users/me").status_code for _ in range(3)]
    with_token = [emulator.call("GET", "/users/me", token=token).status_code for _ in range(3)]
    fourth_with_key = emulator.call("GET", "/users/me").status_code

    assert with_key == with_token == [200, 200, 200]
    assert fourth_with_key == 429
    credentials = emulator.stats()["credentials"]
    assert credentials[ACME_API_KEY_LABEL]["requests"] == 4
    assert credentials[f"acme/{ACME_CLIENT_ID}"]["requests"] == 3


def test_with_the_rate_limit_off_nothing_is_throttled_and_stats_still_count(emulator):
    emulator.reset(default_state(acme=acme_company(rate_limit=None)))

    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: emulator.call("GET", "/users/me"), range(40)))

    assert [r.status_code for r in responses] == [200] * 40
    assert "X-RateLimit-Limit" not in responses[0].headers
    mine = emulator.stats()["credentials"][ACME_API_KEY_LABEL]
    assert mine["requests"] == 40
    assert 1 <= mine["max_concurrency"] <= 4
