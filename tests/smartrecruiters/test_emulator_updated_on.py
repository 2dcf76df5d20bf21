"""`updatedOn` in the emulator: every kind of change moves it and a no-op does not, `updatedAfter`
lists exactly the users changed after an instant, and `POST /_emulator/updated-on` freezes it per
kind of change (the change still happens) so tests can show what a full re-read repairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.fixtures.emulator import acme_company, default_state

pytestmark = pytest.mark.integration

ALICE = "alice.martin@acme.example"  # active, STANDARD, in Sales EMEA, lives in Paris
CARLA = "carla.ruiz@acme.example"  # inactive, EXTENDED, in no access group
SALES = "60497fe33e2b74a609b7e411"
ENGINEERING = "60497fe33e2b74a609b7e412"
KINDS = ("profile", "location", "activation", "groups")
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
NEW_USER = {
    "email": "late@acme.example",
    "firstName": "Late",
    "lastName": "Comer",
    "systemRole": {"id": "STANDARD"},
}


@pytest.fixture
def acme(emulator):
    """The default state with Acme's rate limit off: these tests read users after every call."""
    emulator.reset(default_state(acme=acme_company(rate_limit=None)))
    return emulator


def replace(path: str, value: object) -> dict:
    return {"op": "replace", "path": path, "value": value}


def change(
    kind: str,
    email: str,
    method: str,
    path: str,
    body: object,
    shows: Callable[[dict], bool] | None,
    name: str,
):
    """One call that changes the user `email`: `{id}` in `path` is the user's id; `shows` tells
    whether `GET /users/{id}` answers the changed user."""
    return pytest.param(kind, email, method, path, body, shows, id=name)


def patch(
    email: str,
    operations: list[dict],
    shows: Callable[[dict], bool] | None,
    name: str,
    kind: str = "profile",
):
    return change(kind, email, "PATCH", "/users/{id}", operations, shows, name)


CHANGES = [
    patch(ALICE, [replace("/firstName", "Alicia")], lambda u: u["firstName"] == "Alicia", "names"),
    patch(
        ALICE,
        [replace("/email", "alicia.martin@acme.example")],
        lambda u: u["email"] == "alicia.martin@acme.example",
        "email",
    ),
    patch(
        ALICE,
        [replace("/systemRole", {"id": "EXTENDED"})],
        lambda u: u["systemRole"]["id"] == "EXTENDED",
        "role",
    ),
    patch(
        ALICE,
        [replace("/externalData", "E9999")],
        lambda u: u["externalData"] == "E9999",
        "external-data",
    ),
    patch(
        ALICE,
        [replace("/language", {"code": "en"})],
        lambda u: u["language"]["code"] == "en",
        "lang",
    ),
    patch(
        ALICE,
        [{"op": "add", "path": "/ssoIdentifier", "value": "amartin"}],
        lambda u: u["ssoIdentifier"] == "amartin",
        "sso-identifier",
    ),
    patch(
        ALICE,
        [replace("/ssoLoginMode", "SSO")],
        lambda u: u["ssoLoginMode"] == "SSO",
        "sso-login-mode",
    ),
    patch(
        ALICE,
        [replace("/location", {"countryCode": "de", "city": "Berlin"})],
        lambda u: (u["location"]["countryCode"], u["location"]["city"]) == ("DE", "Berlin"),
        "whole-location",
        kind="location",
    ),
    patch(
        ALICE,
        [replace("/location/city", "Lyon")],
        lambda u: u["location"]["city"] == "Lyon",
        "location-city",
        kind="location",
    ),
    patch(
        ALICE,
        [{"op": "remove", "path": "/location"}],
        lambda u: u["location"] is None,
        "location-removed",
        kind="location",
    ),
    change(
        "activation",
        CARLA,
        "PUT",
        "/users/{id}/activation",
        None,
        lambda u: u["active"] is True,
        "activate",
    ),
    change(
        "activation",
        ALICE,
        "DELETE",
        "/users/{id}/activation",
        None,
        lambda u: u["active"] is False,
        "deactivate",
    ),
    change(
        "groups",
        ALICE,
        "POST",
        f"/access-groups/{ENGINEERING}/users",
        ["{id}"],
        lambda u: ENGINEERING in [group["id"] for group in u["accessGroups"]],
        "group-assigned",
    ),
    change(
        "groups",
        ALICE,
        "DELETE",
        f"/access-groups/{SALES}/users/{{id}}",
        None,
        lambda u: u["accessGroups"] == [],
        "group-removed",
    ),
]

NO_OPS = [
    patch(ALICE, [replace("/firstName", "Alice")], None, "same-name"),
    patch(ALICE, [{"op": "remove", "path": "/ssoIdentifier"}], None, "remove-absent-sso"),
    patch(ALICE, [replace("/location/city", "Paris")], None, "same-city"),
    patch(ALICE, [replace("/location/countryCode", "fr")], None, "same-country-other-case"),
    patch(ALICE, [{"op": "remove", "path": "/location/regionCode"}], None, "remove-absent-region"),
    change("activation", ALICE, "PUT", "/users/{id}/activation", None, None, "activate-active"),
    change(
        "activation", CARLA, "DELETE", "/users/{id}/activation", None, None, "deactivate-inactive"
    ),
    change("groups", ALICE, "POST", f"/access-groups/{SALES}/users", ["{id}"], None, "in-already"),
    change(
        "groups", CARLA, "DELETE", f"/access-groups/{SALES}/users/{{id}}", None, None, "not-in-it"
    ),
]


def make(emulator, email: str, method: str, path: str, body: object) -> requests.Response:
    """Send one change to the user `email`; fails the test unless the API accepted it."""
    user_id = emulator.user(email)["id"]
    if body == ["{id}"]:
        body = [user_id]
    headers = JSON_PATCH if method == "PATCH" else None
    response = emulator.call(method, path.format(id=user_id), json=body, headers=headers)
    assert response.status_code in (200, 201, 204), response.text
    return response


def get_user(emulator, user_id: str) -> dict:
    response = emulator.call("GET", f"/users/{user_id}")
    assert response.status_code == 200, response.text
    return response.json()


def listed_after(emulator, instant: str) -> set[str]:
    """Emails of the users `GET /users?updatedAfter=instant` lists (one page holds them all)."""
    response = emulator.call("GET", "/users", params={"updatedAfter": instant, "limit": 100})
    assert response.status_code == 200, response.text
    assert "nextPageId" not in response.json()
    return {user["email"] for user in response.json()["content"]}


def shifted(stamp: str, **delta: float) -> str:
    """An `updatedOn` stamp moved by `delta`, written with microseconds and an offset."""
    moment = datetime.fromisoformat(stamp) + timedelta(**delta)
    return moment.isoformat(timespec="microseconds")


@pytest.mark.parametrize(("kind", "email", "method", "path", "body", "shows"), CHANGES)
def test_every_kind_of_change_moves_updated_on(acme, kind, email, method, path, body, shows):
    before = acme.user(email)
    latest = max(user["updatedOn"] for user in acme.users())

    make(acme, email, method, path, body)

    after = get_user(acme, before["id"])
    assert shows(after)
    assert after["updatedOn"] > latest
    assert listed_after(acme, latest) == {after["email"]}


@pytest.mark.parametrize(("kind", "email", "method", "path", "body", "shows"), NO_OPS)
def test_a_change_that_changes_nothing_leaves_updated_on(
    acme, kind, email, method, path, body, shows
):
    before = acme.user(email)
    latest = max(user["updatedOn"] for user in acme.users())

    make(acme, email, method, path, body)

    assert get_user(acme, before["id"]) == before
    assert listed_after(acme, latest) == set()


@pytest.mark.parametrize(("kind", "email", "method", "path", "body", "shows"), CHANGES)
def test_a_frozen_kind_of_change_happens_but_leaves_updated_on(
    acme, kind, email, method, path, body, shows
):
    before = acme.user(email)
    latest = max(user["updatedOn"] for user in acme.users())
    acme.freeze_updated_on(kind)

    make(acme, email, method, path, body)

    after = get_user(acme, before["id"])
    assert shows(after)
    assert after["updatedOn"] == before["updatedOn"]
    assert listed_after(acme, latest) == set()


@pytest.mark.parametrize(("kind", "email", "method", "path", "body", "shows"), CHANGES)
def test_freezing_the_other_kinds_leaves_this_one_moving(
    acme, kind, email, method, path, body, shows
):
    before = acme.user(email)
    acme.freeze_updated_on(*(other for other in KINDS if other != kind))

    make(acme, email, method, path, body)

    assert get_user(acme, before["id"])["updatedOn"] > before["updatedOn"]


@pytest.mark.parametrize(
    ("frozen", "moves"),
    [((), True), (("profile",), True), (("location",), True), (("profile", "location"), False)],
)
def test_a_patch_of_profile_and_location_moves_updated_on_unless_both_are_frozen(
    acme, frozen, moves
):
    before = acme.user(ALICE)
    acme.freeze_updated_on(*frozen)

    make(
        acme,
        ALICE,
        "PATCH",
        "/users/{id}",
        [replace("/lastName", "Martin-Durand"), replace("/location/city", "Lyon")],
    )

    after = get_user(acme, before["id"])
    assert (after["lastName"], after["location"]["city"]) == ("Martin-Durand", "Lyon")
    assert (after["updatedOn"] != before["updatedOn"]) is moves


def test_a_location_operation_that_changes_nothing_is_no_location_change(acme):
    before = acme.user(ALICE)
    acme.freeze_updated_on("profile")

    make(
        acme,
        ALICE,
        "PATCH",
        "/users/{id}",
        [replace("/lastName", "Martin-Durand"), replace("/location/city", "Paris")],
    )

    after = get_user(acme, before["id"])
    assert after["lastName"] == "Martin-Durand"
    assert after["updatedOn"] == before["updatedOn"]


def test_a_create_is_stamped_even_with_every_kind_frozen(acme):
    latest = max(user["updatedOn"] for user in acme.users())
    acme.freeze_updated_on(*KINDS)

    response = acme.call("POST", "/users", json=NEW_USER)

    assert response.status_code == 201
    assert response.json()["updatedOn"] > latest
    assert listed_after(acme, latest) == {NEW_USER["email"]}


def test_updated_after_lists_exactly_the_users_changed_strictly_after_the_instant(acme):
    make(acme, ALICE, "PATCH", "/users/{id}", [replace("/firstName", "Alicia")])
    make(acme, CARLA, "PUT", "/users/{id}/activation", None)
    make(acme, "bob.keller@acme.example", "DELETE", "/users/{id}/activation", None)
    stamps = {user["email"]: user["updatedOn"] for user in acme.users()}

    for stamp in stamps.values():
        later = {email for email, other in stamps.items() if other > stamp}
        at_or_later = later | {email for email, other in stamps.items() if other == stamp}
        assert listed_after(acme, stamp) == later
        assert listed_after(acme, shifted(stamp, microseconds=900)) == later
        assert listed_after(acme, shifted(stamp, microseconds=-100)) == at_or_later
        assert listed_after(acme, shifted(stamp, milliseconds=-1)) == at_or_later


@pytest.mark.parametrize("hours", [2, -5])
def test_updated_after_reads_an_offset_as_the_same_instant(acme, hours):
    make(acme, CARLA, "PUT", "/users/{id}/activation", None)
    stamp = datetime.fromisoformat(acme.user(CARLA)["updatedOn"])
    zone = timezone(timedelta(hours=hours))

    def elsewhere(moment: datetime) -> str:
        return moment.astimezone(zone).isoformat(timespec="milliseconds")

    assert listed_after(acme, elsewhere(stamp)) == set()
    assert listed_after(acme, elsewhere(stamp - timedelta(milliseconds=1))) == {CARLA}


def test_the_freeze_document_names_the_frozen_kinds_in_a_fixed_order(acme):
    initially = requests.get(f"{acme.url}/_emulator/updated-on", timeout=5).json()

    answer = acme.freeze_updated_on("groups", "location", "groups")

    assert initially == {"frozen": []}
    assert answer == {"frozen": ["location", "groups"]}
    assert requests.get(f"{acme.url}/_emulator/updated-on", timeout=5).json() == answer


def test_an_empty_frozen_list_ends_the_freeze(acme):
    before = acme.user(ALICE)
    acme.freeze_updated_on("location")

    answer = acme.freeze_updated_on()
    make(acme, ALICE, "PATCH", "/users/{id}", [replace("/location/city", "Lyon")])

    assert answer == {"frozen": []}
    assert acme.user(ALICE)["updatedOn"] > before["updatedOn"]


def test_a_reset_ends_the_freeze(acme):
    acme.freeze_updated_on(*KINDS)

    acme.reset(default_state(acme=acme_company(rate_limit=None)))
    before = acme.user(CARLA)
    make(acme, CARLA, "PUT", "/users/{id}/activation", None)

    assert requests.get(f"{acme.url}/_emulator/updated-on", timeout=5).json() == {"frozen": []}
    assert acme.user(CARLA)["updatedOn"] > before["updatedOn"]


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"frozen": ["location", "names"]}, "'names'"),
        ({"frozen": "location"}, '"frozen" must be a list'),
        ({"frozen": [1]}, '"frozen" must be a list'),
        ({}, '"frozen" must be a list'),
        ({"frozen": [], "kinds": ["groups"]}, "'kinds'"),
        (["location"], "JSON object"),
    ],
)
def test_a_bad_freeze_document_is_refused_and_the_freeze_kept(acme, document, named):
    acme.freeze_updated_on("activation")

    response = requests.post(f"{acme.url}/_emulator/updated-on", json=document, timeout=5)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "INVALID_DOCUMENT"
    assert named in response.json()["errors"][0]["message"]
    current = requests.get(f"{acme.url}/_emulator/updated-on", timeout=5).json()
    assert current == {"frozen": ["activation"]}
