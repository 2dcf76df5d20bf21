"""Contract tests of activation, emails, avatar, system roles and access groups in the emulator."""

from __future__ import annotations

import pytest

from tests.fixtures.emulator import acme_company, default_state

pytestmark = pytest.mark.integration

SALES = "60497fe33e2b74a609b7e411"
ENGINEERING = "60497fe33e2b74a609b7e412"


def user_id(emulator, email: str) -> str:
    return emulator.user(email)["id"]


def test_activation_put_and_delete_answer_204_and_flip_active(emulator):
    carla = user_id(emulator, "carla.ruiz@acme.example")

    activated = emulator.call("PUT", f"/users/{carla}/activation")
    active_after_put = emulator.user("carla.ruiz@acme.example")["active"]
    deactivated = emulator.call("DELETE", f"/users/{carla}/activation")

    assert (activated.status_code, activated.content) == (204, b"")
    assert active_after_put is True
    assert (deactivated.status_code, deactivated.content) == (204, b"")
    assert emulator.user("carla.ruiz@acme.example")["active"] is False


def test_activating_an_active_user_is_a_204_no_op(emulator):
    before = emulator.user("alice.martin@acme.example")

    response = emulator.call("PUT", f"/users/{before['id']}/activation")

    assert response.status_code == 204
    assert emulator.user("alice.martin@acme.example") == before


def test_activation_of_an_unknown_user_is_404(emulator):
    response = emulator.call("PUT", "/users/0123456789abcdef01234567/activation")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "USER_NOT_FOUND"


def test_activation_emails_and_password_resets_are_counted_by_email(emulator):
    carla = user_id(emulator, "carla.ruiz@acme.example")

    sent = [
        emulator.call("POST", f"/users/{carla}/activation-email").status_code,
        emulator.call("POST", f"/users/{carla}/activation-email").status_code,
        emulator.call("POST", f"/users/{carla}/reset-password").status_code,
    ]

    stats = emulator.stats()
    assert sent == [204, 204, 204]
    assert stats["activation_emails"] == {"carla.ruiz@acme.example": 2}
    assert stats["password_resets"] == {"carla.ruiz@acme.example": 1}
    assert stats["requests"]["POST /users/{id}/activation-email"] == {"204": 2}


def test_avatar_upload_answers_204(emulator):
    bob = user_id(emulator, "bob.keller@acme.example")

    response = emulator.call(
        "PUT", f"/users/{bob}/avatar", files={"file": ("me.png", b"\x89PNG", "image/png")}
    )

    assert response.status_code == 204


def test_system_roles_list_the_five_built_ins_and_the_custom_ones(emulator):
    response = emulator.call("GET", "/system-roles")

    assert response.status_code == 200
    roles = {role["id"]: role["name"] for role in response.json()["content"]}
    assert {"EMPLOYEE", "RESTRICTED", "STANDARD", "EXTENDED", "ADMINISTRATOR"} <= set(roles)
    assert roles["64b7f0c2a1d3e4f5a6b7c8d9"] == "Hiring Manager"


def test_access_groups_list_the_company_groups(emulator):
    response = emulator.call("GET", "/access-groups")

    assert response.status_code == 200
    assert {"id": ENGINEERING, "name": "Engineering"} in response.json()["content"]


def test_assigning_users_to_a_group_answers_201_and_shows_on_the_users(emulator):
    alice = user_id(emulator, "alice.martin@acme.example")
    carla = user_id(emulator, "carla.ruiz@acme.example")

    response = emulator.call("POST", f"/access-groups/{ENGINEERING}/users", json=[alice, carla])

    assert response.status_code == 201
    assert response.json()["content"] == [{"id": ENGINEERING, "name": "Engineering"}]
    assert emulator.call("GET", f"/users/{alice}").json()["accessGroups"] == [
        {"id": SALES, "name": "Sales EMEA"},
        {"id": ENGINEERING, "name": "Engineering"},
    ]
    listed = emulator.call("GET", "/users", params={"q": "carla"}).json()["content"][0]
    assert listed["accessGroups"] == [{"id": ENGINEERING}]


def test_an_employee_cannot_join_an_access_group(emulator):
    alice = user_id(emulator, "alice.martin@acme.example")
    bob = user_id(emulator, "bob.keller@acme.example")  # EMPLOYEE

    response = emulator.call("POST", f"/access-groups/{ENGINEERING}/users", json=[alice, bob])

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "ACCESS_GROUPS_NOT_ALLOWED"
    assert emulator.user("alice.martin@acme.example")["accessGroups"] == [
        {"id": SALES, "name": "Sales EMEA"}
    ]


def test_a_role_can_be_configured_to_refuse_access_groups(emulator):
    roles = [{"id": "STANDARD", "name": "Standard", "access_groups_allowed": False}]
    emulator.reset(default_state(acme=acme_company(roles=roles)))
    alice = user_id(emulator, "alice.martin@acme.example")

    response = emulator.call("POST", f"/access-groups/{ENGINEERING}/users", json=[alice])

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "ACCESS_GROUPS_NOT_ALLOWED"


def test_removing_a_user_from_a_group_answers_204(emulator):
    alice = user_id(emulator, "alice.martin@acme.example")

    response = emulator.call("DELETE", f"/access-groups/{SALES}/users/{alice}")

    assert response.status_code == 204
    assert emulator.user("alice.martin@acme.example")["accessGroups"] == []


def test_an_unknown_access_group_is_404(emulator):
    alice = user_id(emulator, "alice.martin@acme.example")

    assigned = emulator.call("POST", "/access-groups/ffffffffffffffffffffffff/users", json=[alice])
    removed = emulator.call("DELETE", f"/access-groups/ffffffffffffffffffffffff/users/{alice}")

    assert assigned.status_code == removed.status_code == 404
    assert assigned.json()["errors"][0]["code"] == "ACCESS_GROUP_NOT_FOUND"
