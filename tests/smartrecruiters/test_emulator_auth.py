"""Contract tests of the emulator's credentials: API keys, OAuth, the sign-in page, tenancy."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fixtures.emulator import (
    ACME_CLIENT_ID,
    ACME_CLIENT_SECRET,
    ACME_ME_EMAIL,
    GLOBEX_API_KEY,
    GLOBEX_ME_EMAIL,
    SIGNIN_APP_ID,
    SIGNIN_APP_SECRET,
    default_state,
)

pytestmark = pytest.mark.integration

REDIRECT = "http://127.0.0.1:9/signed-in"


def token_call(emulator, **form: str) -> requests.Response:
    return requests.post(f"{emulator.url}/identity/oauth/token", data=form, timeout=10)


def client_token(emulator) -> str:
    response = token_call(
        emulator,
        grant_type="client_credentials",
        client_id=ACME_CLIENT_ID,
        client_secret=ACME_CLIENT_SECRET,
    )
    return response.json()["access_token"]


def sign_in(emulator, email: str, company_id: str = "globex") -> dict:
    """Pick `email` on the sign-in form and trade the code: the token answer."""
    user = emulator.user(email, company_id)
    allowed = requests.post(
        f"{emulator.url}/identity/oauth/allow",
        data={
            "client_id": SIGNIN_APP_ID,
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "user_id": user["id"],
        },
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(allowed.headers["Location"]).query)["code"][0]
    return token_call(
        emulator,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT,
        client_id=SIGNIN_APP_ID,
        client_secret=SIGNIN_APP_SECRET,
    ).json()


def test_a_call_without_credential_is_401_with_the_error_body(emulator):
    response = emulator.call("GET", "/users", api_key=None)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.parametrize("header", ["X-SmartToken", "Authorization"])
def test_an_unknown_credential_is_401(emulator, header):
    value = "nope" if header == "X-SmartToken" else "Bearer nope"

    response = emulator.call("GET", "/users/me", api_key=None, headers={header: value})

    assert response.status_code == 401
    assert emulator.stats()["requests"]["GET /users/me"] == {"401": 1}


def test_the_api_key_header_name_is_case_insensitive(emulator):
    response = emulator.call(
        "GET", "/users/me", api_key=None, headers={"x-smarttoken": emulator.api_key}
    )

    assert response.status_code == 200


def test_a_credential_sees_only_its_own_company(emulator):
    alice = emulator.user("alice.martin@acme.example")

    listed = emulator.call("GET", "/users", api_key=GLOBEX_API_KEY).json()["content"]
    fetched = emulator.call("GET", f"/users/{alice['id']}", api_key=GLOBEX_API_KEY)
    activated = emulator.call("PUT", f"/users/{alice['id']}/activation", api_key=GLOBEX_API_KEY)

    assert {user["email"] for user in listed} == {GLOBEX_ME_EMAIL, "homer.simpson@globex.example"}
    assert fetched.status_code == activated.status_code == 404


def test_a_client_credentials_token_acts_as_the_company_me_user(emulator):
    response = token_call(
        emulator,
        grant_type="client_credentials",
        client_id=ACME_CLIENT_ID,
        client_secret=ACME_CLIENT_SECRET,
    )

    answer = response.json()
    assert response.status_code == 200
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 1800
    assert "refresh_token" not in answer
    me = emulator.call("GET", "/users/me", token=answer["access_token"])
    assert me.json()["email"] == ACME_ME_EMAIL
    assert f"acme/{ACME_CLIENT_ID}" in emulator.stats()["credentials"]


def test_client_credentials_with_a_wrong_secret_is_401_invalid_client(emulator):
    response = token_call(
        emulator, grant_type="client_credentials", client_id=ACME_CLIENT_ID, client_secret="no"
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_token_endpoint_takes_only_form_encoded_bodies(emulator):
    response = requests.post(
        f"{emulator.url}/identity/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": ACME_CLIENT_ID,
            "client_secret": ACME_CLIENT_SECRET,
        },
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_the_sign_in_page_offers_the_users_and_an_allow_button(emulator):
    response = requests.get(
        f"{emulator.url}/identity/oauth/allow",
        params={"client_id": SIGNIN_APP_ID, "redirect_uri": REDIRECT, "state": "s1"},
        timeout=10,
    )

    assert response.status_code == 200
    assert '<label for="user_id">User</label>' in response.text
    assert re.search(r"<button[^>]*>Allow</button>", response.text)
    assert GLOBEX_ME_EMAIL in response.text
    assert "carla.ruiz@acme.example" not in response.text  # inactive users cannot sign in


def test_the_sign_in_page_refuses_an_unknown_application(emulator):
    response = requests.get(
        f"{emulator.url}/identity/oauth/allow",
        params={"client_id": "unknown-app", "redirect_uri": REDIRECT},
        timeout=10,
    )

    assert response.status_code == 400


def test_the_authorization_code_flow_acts_as_the_person_who_picked(emulator):
    homer = emulator.user("homer.simpson@globex.example", "globex")
    allowed = requests.post(
        f"{emulator.url}/identity/oauth/allow",
        data={
            "client_id": SIGNIN_APP_ID,
            "redirect_uri": REDIRECT,
            "state": "xyz",
            "user_id": homer["id"],
        },
        allow_redirects=False,
        timeout=10,
    )
    location = urlsplit(allowed.headers["Location"])
    query = parse_qs(location.query)

    tokens = token_call(
        emulator,
        grant_type="authorization_code",
        code=query["code"][0],
        redirect_uri=REDIRECT,
        client_id=SIGNIN_APP_ID,
        client_secret=SIGNIN_APP_SECRET,
    ).json()
    me = emulator.call("GET", "/users/me", token=tokens["access_token"])

    assert allowed.status_code == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["xyz"]
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert me.json()["email"] == "homer.simpson@globex.example"
    assert f"globex/{SIGNIN_APP_ID}" in emulator.stats()["credentials"]


def test_an_authorization_code_works_once(emulator):
    homer = emulator.user("homer.simpson@globex.example", "globex")
    allowed = requests.post(
        f"{emulator.url}/identity/oauth/allow",
        data={"client_id": SIGNIN_APP_ID, "redirect_uri": REDIRECT, "user_id": homer["id"]},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(allowed.headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": SIGNIN_APP_ID,
        "client_secret": SIGNIN_APP_SECRET,
    }

    first = token_call(emulator, **form)
    second = token_call(emulator, **form)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_a_refresh_token_works_once(emulator):
    tokens = sign_in(emulator, GLOBEX_ME_EMAIL)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": SIGNIN_APP_ID,
        "client_secret": SIGNIN_APP_SECRET,
    }

    refreshed = token_call(emulator, **form)
    reused = token_call(emulator, **form)

    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != tokens["refresh_token"]
    assert emulator.call("GET", "/users/me", token=refreshed.json()["access_token"]).ok
    assert reused.status_code == 400


def test_expired_tokens_answer_401_and_a_refresh_recovers(emulator):
    tokens = sign_in(emulator, GLOBEX_ME_EMAIL)
    client = client_token(emulator)

    emulator.expire_tokens()

    assert emulator.call("GET", "/users/me", token=tokens["access_token"]).status_code == 401
    assert emulator.call("GET", "/users/me", token=client).status_code == 401
    assert emulator.call("GET", "/users/me", token=client_token(emulator)).status_code == 200
    refreshed = token_call(
        emulator,
        grant_type="refresh_token",
        refresh_token=tokens["refresh_token"],
        client_id=SIGNIN_APP_ID,
        client_secret=SIGNIN_APP_SECRET,
    ).json()
    assert emulator.call("GET", "/users/me", token=refreshed["access_token"]).status_code == 200


def test_a_revoked_api_key_answers_401_and_the_others_still_work(emulator):
    assert emulator.call("GET", "/users/me").status_code == 200

    emulator.revoke(api_key=emulator.api_key)

    assert emulator.call("GET", "/users/me").status_code == 401
    assert emulator.call("GET", "/users/me", api_key=GLOBEX_API_KEY).status_code == 200
    assert emulator.api_key not in emulator.company()["api_keys"]


def test_a_revoked_client_loses_its_tokens_and_gets_no_new_one(emulator):
    token = client_token(emulator)

    emulator.revoke(client_id=ACME_CLIENT_ID)

    assert emulator.call("GET", "/users/me", token=token).status_code == 401
    refused = token_call(
        emulator,
        grant_type="client_credentials",
        client_id=ACME_CLIENT_ID,
        client_secret=ACME_CLIENT_SECRET,
    )
    assert refused.status_code == 401


def test_revoking_an_unknown_credential_is_404(emulator):
    with pytest.raises(RuntimeError, match="404"):
        emulator.revoke(api_key="no-such-key")


def test_tokens_expire_after_the_configured_lifetime(emulator):
    emulator.reset({**default_state(), "token_ttl_seconds": 1})
    answer = token_call(
        emulator,
        grant_type="client_credentials",
        client_id=ACME_CLIENT_ID,
        client_secret=ACME_CLIENT_SECRET,
    ).json()

    time.sleep(1.1)

    assert answer["expires_in"] == 1
    assert emulator.call("GET", "/users/me", token=answer["access_token"]).status_code == 401
