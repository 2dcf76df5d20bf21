"""The SmartRecruiters client against the emulator over HTTP: one test per endpoint and reading."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.emulator import (
    ACME_API_KEY,
    GLOBEX_API_KEY,
    acme_company,
    default_state,
    make_users,
)
from user2smart.smartrecruiters.auth import ApiKey
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import RejectedError

pytestmark = pytest.mark.integration

NEW_USER = {
    "email": "grace.hopper@acme.example",
    "firstName": "Grace",
    "lastName": "Hopper",
    "systemRole": {"id": "STANDARD"},
    "language": {"code": "en"},
    "location": {"countryCode": "US", "city": "Arlington"},
}


@pytest.fixture
def client(emulator) -> Iterator[SmartRecruitersClient]:
    with SmartRecruitersClient(
        ApiKey(ACME_API_KEY), base_url=emulator.url, timeout=(2, 10)
    ) as client:
        yield client


def user_with_email(emulator, email: str) -> dict:
    user = emulator.user(email)
    assert user is not None, f"{email} is not in the emulator"
    return user


def test_listing_reads_every_page_of_a_large_directory(emulator, client):
    acme = acme_company()
    acme["users"] += make_users(260)
    emulator.reset(default_state(acme))

    users = list(client.list_users())

    assert len(users) == len(acme["users"])
    assert {u["id"] for u in users} == {u["id"] for u in acme["users"]}
    assert emulator.stats()["requests"]["GET /users"] == {"200": 3}


def test_a_search_that_finds_nothing_gives_no_users(emulator, client):
    assert list(client.list_users(q="no-such-person")) == []
    assert emulator.stats()["requests"]["GET /users"] == {"200": 1}


def test_search_by_email_keeps_only_the_exact_address(emulator, client):
    acme = acme_company()
    acme["users"] += make_users(3, domain="acme.example")
    acme["users"] += make_users(2, domain="acme.example.org")
    emulator.reset(default_state(acme))

    found = client.find_user_by_email("  USER00001@Acme.Example ")

    assert found is not None
    assert found["email"] == "user00001@acme.example"
    assert len(client.search_users("user00001@acme.example")) == 2  # the search is fuzzy
    assert client.find_user_by_email("user00001@acme") is None
    assert client.find_user_by_email("nobody@acme.example") is None


def test_me_is_the_user_the_api_key_acts_as(emulator, client):
    assert client.me()["email"] == emulator.company()["me"]


def test_get_user_answers_the_full_user(emulator, client):
    alice = user_with_email(emulator, "alice.martin@acme.example")

    user = client.get_user(alice["id"])

    assert user["email"] == "alice.martin@acme.example"
    assert user["location"]["city"] == "Paris"


def test_an_unknown_user_is_rejected_with_smartrecruiters_code(client):
    with pytest.raises(RejectedError) as caught:
        client.get_user("65a0000000000000000000ee")

    assert caught.value.status == 404
    assert caught.value.code == "USER_NOT_FOUND"
    assert "User not found" in str(caught.value)


def test_ids_are_escaped_so_they_cannot_reach_another_path(client):
    with pytest.raises(RejectedError) as caught:
        client.get_user("../users/me")

    assert caught.value.status == 404


def test_another_companys_user_is_not_found(emulator):
    alice = user_with_email(emulator, "alice.martin@acme.example")
    globex = SmartRecruitersClient(ApiKey(GLOBEX_API_KEY), base_url=emulator.url)
    with pytest.raises(RejectedError) as caught:
        globex.get_user(alice["id"])

    assert caught.value.status == 404


def test_create_user_stores_an_inactive_user(emulator, client):
    created = client.create_user(NEW_USER)

    stored = user_with_email(emulator, NEW_USER["email"])
    assert created["id"] == stored["id"]
    assert stored["active"] is False
    assert stored["systemRole"]["id"] == "STANDARD"
    assert emulator.stats()["creates_by_email"] == {NEW_USER["email"]: 1}


def test_create_user_with_a_padded_name_is_rejected_with_its_code(emulator, client):
    with pytest.raises(RejectedError) as caught:
        client.create_user({**NEW_USER, "firstName": " Grace "})

    assert caught.value.status == 400
    assert caught.value.code == "INVALID_USER_NAME"
    assert emulator.user(NEW_USER["email"]) is None


def test_creating_an_existing_email_is_a_conflict(client):
    with pytest.raises(RejectedError) as caught:
        client.create_user({**NEW_USER, "email": "Alice.Martin@acme.example"})

    assert caught.value.status == 409


def test_patch_user_applies_json_patch_operations(emulator, client):
    bob = user_with_email(emulator, "bob.keller@acme.example")

    updated = client.patch_user(
        bob["id"],
        [
            {"op": "replace", "path": "/lastName", "value": "Keller-Smith"},
            {"op": "replace", "path": "/systemRole", "value": {"id": "EXTENDED"}},
        ],
    )

    stored = user_with_email(emulator, "bob.keller@acme.example")
    assert updated["lastName"] == "Keller-Smith"
    assert stored["lastName"] == "Keller-Smith"
    assert stored["systemRole"]["id"] == "EXTENDED"


def test_activate_and_deactivate_change_the_users_state(emulator, client):
    user_id = client.create_user(NEW_USER)["id"]

    client.activate_user(user_id)
    assert user_with_email(emulator, NEW_USER["email"])["active"] is True

    client.deactivate_user(user_id)
    assert user_with_email(emulator, NEW_USER["email"])["active"] is False


def test_send_activation_email_reaches_the_user(emulator, client):
    user_id = client.create_user(NEW_USER)["id"]

    client.send_activation_email(user_id)

    assert emulator.stats()["activation_emails"] == {NEW_USER["email"]: 1}


def test_system_roles_and_access_groups_are_listed(emulator, client):
    roles = client.list_system_roles()
    groups = client.list_access_groups()

    assert {"id": "ADMINISTRATOR", "name": "Administrator"} in roles
    assert {r["id"] for r in roles} == {r["id"] for r in emulator.company()["roles"]}
    assert {g["name"] for g in groups} == {"Product management", "Sales EMEA", "Engineering"}


def test_users_are_added_to_and_removed_from_an_access_group(emulator, client):
    group = next(g for g in client.list_access_groups() if g["name"] == "Engineering")
    admin = client.me()
    alice = user_with_email(emulator, "alice.martin@acme.example")

    answer = client.add_users_to_access_group(group["id"], [admin["id"], alice["id"]])

    assert answer["content"][0]["id"] == group["id"]
    assert group["id"] in _group_ids(user_with_email(emulator, admin["email"]))
    assert group["id"] in _group_ids(user_with_email(emulator, "alice.martin@acme.example"))

    client.remove_user_from_access_group(group["id"], alice["id"])

    assert group["id"] in _group_ids(user_with_email(emulator, admin["email"]))
    assert group["id"] not in _group_ids(user_with_email(emulator, "alice.martin@acme.example"))


def test_a_role_that_may_not_join_access_groups_is_rejected(emulator, client):
    group = client.list_access_groups()[0]
    bob = user_with_email(emulator, "bob.keller@acme.example")  # an EMPLOYEE

    with pytest.raises(RejectedError) as caught:
        client.add_users_to_access_group(group["id"], [bob["id"]])

    assert caught.value.code == "ACCESS_GROUPS_NOT_ALLOWED"
    assert group["id"] not in _group_ids(user_with_email(emulator, "bob.keller@acme.example"))


def _group_ids(user: dict) -> set[str]:
    return {g["id"] if isinstance(g, dict) else g for g in user.get("accessGroups") or []}
