"""The emulator's counts of creates and activation emails, which the reliability tests rely on."""

from __future__ import annotations

import pytest
import requests

from tests.fixtures.emulator import acme_company, default_state

pytestmark = pytest.mark.integration

EMAIL = "new.hire@acme.example"
NEW_USER = {
    "email": EMAIL,
    "firstName": "New",
    "lastName": "Hire",
    "systemRole": {"id": "EMPLOYEE"},
    "ssoIdentifier": "new.hire",
}


@pytest.fixture
def unlimited(emulator):
    """The default state with Acme's rate limit off: only the injected faults show."""
    emulator.reset(default_state(acme=acme_company(rate_limit=None)))
    return emulator


def create_counts(stats: dict, email: str = EMAIL) -> tuple[int, int, int]:
    """(attempts, creates, conflicts) of one email."""
    return (
        stats["create_attempts_by_email"].get(email, 0),
        stats["creates_by_email"].get(email, 0),
        stats["create_conflicts_by_email"].get(email, 0),
    )


def test_a_create_sent_again_is_an_attempt_and_a_conflict_not_a_second_create(unlimited):
    first = unlimited.call("POST", "/users", json=NEW_USER)
    again = unlimited.call("POST", "/users", json={**NEW_USER, "email": EMAIL.upper()})

    assert (first.status_code, again.status_code) == (201, 409)
    stats = unlimited.stats()
    assert create_counts(stats) == (2, 1, 1)
    assert stats["requests"]["POST /users"] == {"201": 1, "409": 1}


def test_an_sso_identifier_taken_is_a_conflict_too(unlimited):
    unlimited.call("POST", "/users", json=NEW_USER)

    other = {**NEW_USER, "email": "other.hire@acme.example"}
    response = unlimited.call("POST", "/users", json=other)

    assert response.json()["errors"][0]["code"] == "SSO_IDENTIFIER_ALREADY_EXISTS"
    assert create_counts(unlimited.stats(), "other.hire@acme.example") == (1, 0, 1)


def test_creates_refused_or_faulted_before_acting_are_attempts_that_created_nothing(unlimited):
    statuses = [
        unlimited.call("POST", "/users", json=NEW_USER, api_key=None).status_code,
        unlimited.call("POST", "/users", json={**NEW_USER, "systemRole": {"id": "X"}}).status_code,
    ]
    unlimited.faults(error_rate=1)
    statuses.append(unlimited.call("POST", "/users", json=NEW_USER).status_code)
    unlimited.faults(throttle_rate=1)
    statuses.append(unlimited.call("POST", "/users", json=NEW_USER).status_code)
    unlimited.faults(timeout_rate=1, timeout_hold_ms=200)
    with pytest.raises(requests.ConnectionError):
        unlimited.call("POST", "/users", json=NEW_USER)

    assert statuses[:2] == [401, 400]
    assert statuses[2] in (500, 502, 503)
    assert statuses[3] == 429
    assert unlimited.user(EMAIL) is None
    assert create_counts(unlimited.stats()) == (5, 0, 0)


def test_a_create_whose_answer_is_lost_is_an_attempt_that_created(unlimited):
    unlimited.faults(create_then_timeout_rate=1, timeout_hold_ms=200)

    with pytest.raises(requests.ConnectionError):
        unlimited.call("POST", "/users", json=NEW_USER)
    unlimited.faults()
    again = unlimited.call("POST", "/users", json=NEW_USER)  # a client that did not look first

    assert again.status_code == 409
    assert create_counts(unlimited.stats()) == (2, 1, 1)


def test_a_create_body_naming_no_email_is_counted_by_endpoint_only(unlimited):
    no_email = unlimited.call("POST", "/users", json={**NEW_USER, "email": None})
    not_json = unlimited.call(
        "POST", "/users", data=b"{", headers={"Content-Type": "application/json"}
    )

    assert (no_email.status_code, not_json.status_code) == (400, 400)
    stats = unlimited.stats()
    assert stats["create_attempts_by_email"] == {}
    assert stats["requests"]["POST /users"] == {"400": 2}


def test_activation_emails_are_counted_by_user_id_when_accepted(unlimited):
    carla = unlimited.user("carla.ruiz@acme.example")["id"]
    alice = unlimited.user("alice.martin@acme.example")["id"]

    statuses = [
        unlimited.call("POST", f"/users/{carla}/activation-email").status_code,
        unlimited.call("POST", f"/users/{carla}/activation-email").status_code,
        unlimited.call("POST", f"/users/{alice}/activation-email").status_code,
        unlimited.call("POST", "/users/0123456789abcdef01234567/activation-email").status_code,
    ]
    unlimited.faults(error_rate=1)
    statuses.append(unlimited.call("POST", f"/users/{alice}/activation-email").status_code)

    assert statuses[:4] == [204, 204, 204, 404]
    assert statuses[4] in (500, 502, 503)
    stats = unlimited.stats()
    assert stats["activation_emails_by_user"] == {carla: 2, alice: 1}
    assert stats["activation_emails"] == {
        "carla.ruiz@acme.example": 2,
        "alice.martin@acme.example": 1,
    }
