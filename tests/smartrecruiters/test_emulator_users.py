"""Contract tests of the emulator's users endpoints: create, get, me, list, search, validation."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.emulator import (
    ACME_ME_EMAIL,
    GLOBEX_API_KEY,
    GLOBEX_ME_EMAIL,
    acme_company,
    default_state,
    make_users,
)

pytestmark = pytest.mark.integration


def new_user(**fields: object) -> dict:
    body = {
        "email": "dana.new@acme.example",
        "firstName": "Dana",
        "lastName": "New",
        "systemRole": {"id": "STANDARD"},
        "language": {"code": "en"},
    }
    body.update(fields)
    return body


def unlimited(emulator, users: list[dict] | None = None) -> None:
    """Reset with Acme's rate limit off (and extra users), for tests that make many calls."""
    acme = acme_company(rate_limit=None)
    acme["users"] += users or []
    emulator.reset(default_state(acme=acme))


def test_create_answers_201_with_an_inactive_user(emulator):
    response = emulator.call("POST", "/users", json=new_user())

    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    user = response.json()
    assert re.fullmatch(r"[0-9a-f]{24}", user["id"])
    assert user["active"] is False
    assert user["systemRole"] == {"id": "STANDARD", "name": "Standard"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", user["updatedOn"])
    assert emulator.user("dana.new@acme.example")["active"] is False


def test_created_user_is_read_back_by_get_with_its_location(emulator):
    location = {"countryCode": "fr", "city": "Lyon", "postalCode": "69001"}
    created = emulator.call("POST", "/users", json=new_user(location=location)).json()

    response = emulator.call("GET", f"/users/{created['id']}")

    assert response.status_code == 200
    user = response.json()
    assert user["email"] == "dana.new@acme.example"
    assert user["location"]["countryCode"] == "FR"
    assert user["location"]["city"] == "Lyon"
    assert user["location"]["postalCode"] == "69001"


def test_me_is_the_user_the_credential_acts_as(emulator):
    acme_me = emulator.call("GET", "/users/me").json()
    globex_me = emulator.call("GET", "/users/me", api_key=GLOBEX_API_KEY).json()

    assert acme_me["email"] == ACME_ME_EMAIL
    assert acme_me["systemRole"]["id"] == "ADMINISTRATOR"
    assert globex_me["email"] == GLOBEX_ME_EMAIL


def test_unknown_user_id_is_404_with_an_error_body(emulator):
    response = emulator.call("GET", "/users/0123456789abcdef01234567")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "USER_NOT_FOUND"
    assert response.json()["message"]


def test_list_items_carry_no_location_and_only_ids_of_role_and_groups(emulator):
    page = emulator.call("GET", "/users").json()

    alice = next(u for u in page["content"] if u["email"] == "alice.martin@acme.example")
    assert "location" not in alice
    assert alice["systemRole"] == {"id": "STANDARD"}
    assert alice["accessGroups"] == [{"id": "60497fe33e2b74a609b7e411"}]
    assert page["limit"] == 100
    assert "nextPageId" not in page


def test_pages_of_100_walk_260_users_once_each(emulator):
    unlimited(emulator, make_users(256))
    seen, pages, page_id = [], 0, None
    while True:
        params = {"pageId": page_id} if page_id else {}
        page = emulator.call("GET", "/users", params=params).json()
        pages += 1
        seen += [user["id"] for user in page["content"]]
        page_id = page.get("nextPageId")
        if not page_id:
            break

    assert pages == 3
    assert len(seen) == len(set(seen)) == 260


def test_paging_stays_stable_while_users_are_created(emulator):
    unlimited(emulator, make_users(150))
    first = emulator.call("GET", "/users", params={"limit": 100}).json()
    for n in range(3):
        body = new_user(email=f"late{n}@acme.example")
        assert emulator.call("POST", "/users", json=body).status_code == 201

    second = emulator.call("GET", "/users", params={"pageId": first["nextPageId"]}).json()

    ids = [u["id"] for u in first["content"] + second["content"]]
    assert len(ids) == len(set(ids)) == 157
    assert "nextPageId" not in second


@pytest.mark.parametrize("limit", ["101", "0", "many"])
def test_a_limit_outside_1_to_100_is_refused(emulator, limit):
    response = emulator.call("GET", "/users", params={"limit": limit})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "INVALID_PARAMETER"


def test_q_searches_names_email_and_external_data_case_insensitively(emulator):
    def emails(q: str) -> set[str]:
        page = emulator.call("GET", "/users", params={"q": q}).json()
        return {user["email"] for user in page["content"]}

    assert emails("MARTIN") == {"alice.martin@acme.example"}
    assert emails("bob.keller@") == {"bob.keller@acme.example"}
    assert emails("e1002") == {"bob.keller@acme.example"}
    assert emails("nobody-has-this") == set()


def test_updated_after_lists_only_users_changed_later(emulator):
    since = max(user["updatedOn"] for user in emulator.users())
    emulator.call("PUT", f"/users/{emulator.user('carla.ruiz@acme.example')['id']}/activation")

    page = emulator.call("GET", "/users", params={"updatedAfter": since}).json()

    assert [user["email"] for user in page["content"]] == ["carla.ruiz@acme.example"]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"email": None}, 400, "REQUIRED_FIELD_MISSING"),
        ({"email": "not-an-address"}, 400, "INVALID_EMAIL"),
        ({"firstName": None}, 400, "REQUIRED_FIELD_MISSING"),
        ({"lastName": " New"}, 400, "INVALID_USER_NAME"),
        ({"firstName": "x" * 301}, 400, "INVALID_USER_NAME"),
        ({"systemRole": None}, 400, "REQUIRED_FIELD_MISSING"),
        ({"systemRole": {"id": "CAPTAIN"}}, 400, "INVALID_SYSTEM_ROLE"),
        ({"language": {"code": "xx"}}, 422, "INVALID_LANGUAGE"),
        ({"location": {"countryCode": "FRA", "city": "Paris"}}, 400, "INVALID_LOCATION"),
        ({"location": {"countryCode": "FR"}}, 400, "INVALID_LOCATION"),
        ({"location": {"city": "Paris"}}, 400, "INVALID_LOCATION"),
        ({"ssoIdentifier": "s" * 101}, 400, "INVALID_SSO_IDENTIFIER"),
        ({"ssoLoginMode": "MAGIC"}, 422, "INVALID_FIELD"),
    ],
)
def test_a_create_breaking_a_rule_is_refused_with_its_code(emulator, fields, status, code):
    response = emulator.call("POST", "/users", json=new_user(**fields))

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert emulator.user("dana.new@acme.example") is None


def test_a_custom_role_and_a_300_character_name_are_accepted(emulator):
    body = new_user(firstName="y" * 300, systemRole={"id": "64b7f0c2a1d3e4f5a6b7c8d9"})

    response = emulator.call("POST", "/users", json=body)

    assert response.status_code == 201
    assert response.json()["systemRole"]["name"] == "Hiring Manager"


def test_a_language_the_company_has_not_enabled_is_refused(emulator):
    body = new_user(email="fr@globex.example", language={"code": "fr"})

    response = emulator.call("POST", "/users", json=body, api_key=GLOBEX_API_KEY)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "LANGUAGE_DISABLED"


def test_an_email_already_used_in_any_case_is_409(emulator):
    response = emulator.call("POST", "/users", json=new_user(email="Alice.Martin@ACME.example"))

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "USER_ALREADY_EXISTS"


def test_an_email_of_another_company_is_409_though_search_finds_nothing(emulator):
    search = emulator.call("GET", "/users", params={"q": GLOBEX_ME_EMAIL}).json()
    response = emulator.call("POST", "/users", json=new_user(email=GLOBEX_ME_EMAIL))

    assert search["content"] == []
    assert response.status_code == 409
    assert emulator.user(GLOBEX_ME_EMAIL) is None


def test_sso_identifiers_are_unique_and_case_sensitive(emulator):
    taken = emulator.call("POST", "/users", json=new_user(ssoIdentifier="bkeller"))
    other_case = emulator.call("POST", "/users", json=new_user(ssoIdentifier="BKeller"))

    assert taken.status_code == 409
    assert taken.json()["errors"][0]["code"] == "SSO_IDENTIFIER_ALREADY_EXISTS"
    assert other_case.status_code == 201


def test_a_create_that_is_not_json_is_refused(emulator):
    wrong_type = emulator.call("POST", "/users", data="email=a@b.example")
    broken = emulator.call(
        "POST", "/users", data="{not json", headers={"Content-Type": "application/json"}
    )

    assert wrong_type.status_code == 415
    assert broken.status_code == 400
    assert broken.json()["errors"][0]["code"] == "INVALID_JSON"
