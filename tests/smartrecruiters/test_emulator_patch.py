"""Contract tests of `PATCH /users/{id}` (RFC 6902 JSON-Patch) in the emulator."""

from __future__ import annotations

import pytest

from tests.fixtures.emulator import GLOBEX_ME_EMAIL

pytestmark = pytest.mark.integration

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def patch(emulator, email: str, operations: object, headers: dict | None = None):
    user = emulator.user(email)
    return emulator.call(
        "PATCH", f"/users/{user['id']}", json=operations, headers=headers or JSON_PATCH
    )


def test_patch_changes_fields_answers_the_entity_and_moves_updated_on(emulator):
    before = emulator.user("alice.martin@acme.example")
    operations = [
        {"op": "replace", "path": "/lastName", "value": "Martin-Durand"},
        {"op": "add", "path": "/ssoIdentifier", "value": "amartin"},
        {"op": "replace", "path": "/systemRole", "value": {"id": "EXTENDED"}},
        {"op": "replace", "path": "/language", "value": {"code": "de"}},
        {"op": "replace", "path": "/location/city", "value": "Lyon"},
        {"op": "remove", "path": "/externalData"},
    ]

    response = patch(emulator, "alice.martin@acme.example", operations)

    assert response.status_code == 200
    after = emulator.user("alice.martin@acme.example")
    assert response.json() == after
    assert after["lastName"] == "Martin-Durand"
    assert after["ssoIdentifier"] == "amartin"
    assert after["systemRole"] == {"id": "EXTENDED", "name": "Extended"}
    assert after["language"] == {"code": "de"}
    assert after["location"]["city"] == "Lyon"
    assert after["location"]["countryCode"] == "FR"
    assert after["externalData"] is None
    assert after["updatedOn"] > before["updatedOn"]


def test_patch_with_the_same_values_changes_nothing(emulator):
    before = emulator.user("alice.martin@acme.example")

    response = patch(
        emulator, before["email"], [{"op": "replace", "path": "/firstName", "value": "Alice"}]
    )

    assert response.status_code == 200
    assert emulator.user(before["email"])["updatedOn"] == before["updatedOn"]


def test_patch_needs_the_json_patch_content_type(emulator):
    operations = [{"op": "replace", "path": "/firstName", "value": "Alicia"}]

    response = patch(
        emulator,
        "alice.martin@acme.example",
        operations,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert emulator.user("alice.martin@acme.example")["firstName"] == "Alice"


@pytest.mark.parametrize(
    ("operation", "code"),
    [
        ({"op": "replace", "path": "/active", "value": False}, "PATH_NOT_PATCHABLE"),
        ({"op": "add", "path": "/accessGroups", "value": []}, "PATH_NOT_PATCHABLE"),
        ({"op": "move", "from": "/firstName", "path": "/lastName"}, "UNSUPPORTED_PATCH_OPERATION"),
        ({"op": "replace", "path": "/firstName"}, "INVALID_PATCH"),
        ({"op": "remove", "path": "/lastName"}, "REQUIRED_FIELD_MISSING"),
        ({"op": "replace", "path": "/firstName", "value": "Alice "}, "INVALID_USER_NAME"),
        ({"op": "remove", "path": "/location/city"}, "INVALID_LOCATION"),
        ({"op": "replace", "path": "/systemRole", "value": {"id": "NOPE"}}, "INVALID_SYSTEM_ROLE"),
    ],
)
def test_a_refused_patch_is_400_and_changes_nothing(emulator, operation, code):
    before = emulator.user("alice.martin@acme.example")
    operations = [{"op": "replace", "path": "/externalData", "value": "X9"}, operation]

    response = patch(emulator, before["email"], operations)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code
    assert emulator.user(before["email"]) == before


def test_a_patch_body_that_is_not_an_array_is_refused(emulator):
    response = patch(emulator, "alice.martin@acme.example", {"firstName": "Alicia"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "INVALID_PATCH"


@pytest.mark.parametrize("taken", ["BOB.keller@acme.example", GLOBEX_ME_EMAIL])
def test_changing_the_email_to_a_taken_one_is_409(emulator, taken):
    operations = [{"op": "replace", "path": "/email", "value": taken}]

    response = patch(emulator, "alice.martin@acme.example", operations)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "USER_ALREADY_EXISTS"


def test_changing_the_email_frees_the_old_one(emulator):
    operations = [{"op": "replace", "path": "/email", "value": "alice.m@acme.example"}]

    moved = patch(emulator, "alice.martin@acme.example", operations)
    reused = emulator.call(
        "POST",
        "/users",
        json={
            "email": "alice.martin@acme.example",
            "firstName": "Other",
            "lastName": "Alice",
            "systemRole": {"id": "STANDARD"},
        },
    )

    assert moved.status_code == 200
    assert moved.json()["email"] == "alice.m@acme.example"
    assert reused.status_code == 201


def test_patching_an_unknown_user_is_404(emulator):
    response = emulator.call(
        "PATCH",
        "/users/0123456789abcdef01234567",
        json=[{"op": "replace", "path": "/firstName", "value": "X"}],
        headers=JSON_PATCH,
    )

    assert response.status_code == 404
