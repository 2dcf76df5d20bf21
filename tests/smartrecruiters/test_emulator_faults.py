"""Each fault the emulator injects, seen from a client."""

from __future__ import annotations

import time

import pytest
import requests

from tests.fixtures.emulator import (
    ACME_CLIENT_ID,
    ACME_CLIENT_SECRET,
    acme_company,
    default_state,
)

pytestmark = pytest.mark.integration

NEW_USER = {
    "email": "faulty@acme.example",
    "firstName": "Faye",
    "lastName": "Ulty",
    "systemRole": {"id": "STANDARD"},
    "externalData": "E77",
    "ssoLoginMode": "PASSWORD",
    "location": {"countryCode": "US", "regionCode": "CA", "city": "San Francisco"},
}


@pytest.fixture
def unlimited(emulator):
    """The default state with Acme's rate limit off: only the injected faults show."""
    emulator.reset(default_state(acme=acme_company(rate_limit=None)))
    return emulator


def is_json(response: requests.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def test_latency_holds_every_answer(unlimited):
    unlimited.faults(latency_ms=[500, 600])

    with pytest.raises(requests.Timeout):
        requests.get(unlimited.api_url + "/users/me", headers=unlimited.headers(), timeout=(5, 0.1))

    deadline = time.monotonic() + 10  # the held call is answered (to no one) in the end
    while unlimited.stats()["requests"].get("GET /users/me") != {"200": 1}:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_error_rate_answers_5xx_some_of_them_html_from_a_proxy(unlimited):
    unlimited.faults(error_rate=1)

    responses = [unlimited.call("GET", "/users/me") for _ in range(24)]

    assert {r.status_code for r in responses} <= {500, 502, 503}
    html = [r for r in responses if not is_json(r)]
    assert html
    assert all(r.headers["Content-Type"].startswith("text/html") for r in html)
    assert all(r.json()["errors"][0]["code"] for r in responses if is_json(r))


@pytest.mark.parametrize("retry_after", [True, False])
def test_throttle_rate_answers_429_with_or_without_retry_after(unlimited, retry_after):
    unlimited.faults(throttle_rate=1, throttle_retry_after=retry_after)

    response = unlimited.call("GET", "/users/me")

    assert response.status_code == 429
    assert ("Retry-After" in response.headers) is retry_after
    assert unlimited.stats()["throttled"] == 1


def test_timeout_rate_closes_the_connection_without_an_answer(unlimited):
    unlimited.faults(timeout_rate=1, timeout_hold_ms=200)

    with pytest.raises(requests.ConnectionError):
        unlimited.call("GET", "/users/me")

    assert unlimited.stats()["requests"]["GET /users/me"] == {"timeout": 1}


def test_a_create_then_timeout_creates_the_user_but_loses_the_answer(unlimited):
    unlimited.faults(create_then_timeout_rate=1, timeout_hold_ms=200)

    with pytest.raises(requests.ConnectionError):
        unlimited.call("POST", "/users", json=NEW_USER)

    assert unlimited.user("faulty@acme.example") is not None
    stats = unlimited.stats()
    assert stats["creates_by_email"] == {"faulty@acme.example": 1}
    assert stats["requests"]["POST /users"] == {"timeout": 1}


def test_create_then_timeout_leaves_other_calls_answered(unlimited):
    unlimited.faults(create_then_timeout_rate=1, timeout_hold_ms=200)

    assert unlimited.call("GET", "/users/me").status_code == 200
    assert unlimited.call("POST", "/users", json={**NEW_USER, "email": None}).status_code == 400


def test_the_create_response_quirk_drops_fields_the_user_keeps(unlimited):
    unlimited.faults(create_response_quirk=True)

    created = unlimited.call("POST", "/users", json=NEW_USER).json()

    assert created["externalData"] is None
    assert created["ssoLoginMode"] is None
    assert "name" not in created["systemRole"]
    assert created["location"]["regionCode"] is None
    stored = unlimited.user("faulty@acme.example")
    assert stored["externalData"] == "E77"
    assert stored["location"]["regionCode"] == "CA"


def test_faults_leave_the_control_api_and_the_token_endpoint_alone(unlimited):
    unlimited.faults(error_rate=1, timeout_rate=1, throttle_rate=1, latency_ms=5000)

    token = requests.post(
        f"{unlimited.url}/identity/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ACME_CLIENT_ID,
            "client_secret": ACME_CLIENT_SECRET,
        },
        timeout=2,
    )

    assert token.status_code == 200
    assert unlimited.state()["companies"]


def test_posting_faults_resets_the_omitted_kinds(unlimited):
    unlimited.faults(error_rate=0.5, latency_ms=[10, 20], throttle_retry_after=False)

    current = unlimited.faults(timeout_rate=0.25)

    assert current == {
        "latency_ms": [0, 0],
        "error_rate": 0.0,
        "throttle_rate": 0.0,
        "throttle_retry_after": True,
        "timeout_rate": 0.25,
        "create_then_timeout_rate": 0.0,
        "timeout_hold_ms": 3000,
        "create_response_quirk": False,
    }
    assert requests.get(f"{unlimited.url}/_emulator/faults", timeout=5).json() == current


@pytest.mark.parametrize(
    "document", [{"error_rate": 2}, {"latency_ms": [50, 10]}, {"explode": True}, []]
)
def test_a_bad_faults_document_is_refused(unlimited, document):
    response = requests.post(f"{unlimited.url}/_emulator/faults", json=document, timeout=5)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "INVALID_DOCUMENT"
