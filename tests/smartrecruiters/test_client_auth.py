"""Credentials against the emulator: API key, client credentials, sign-in (authorization code),
and no secret in any log line, exception message or repr."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.fixtures.emulator import (
    ACME_API_KEY,
    ACME_CLIENT_ID,
    ACME_CLIENT_SECRET,
    SIGNIN_APP_ID,
    SIGNIN_APP_SECRET,
)
from user2smart.smartrecruiters.auth import (
    ApiKey,
    BearerToken,
    ClientCredentials,
    OAuthToken,
    authorization_url,
    exchange_code,
    refresh,
)
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import AuthRefusedError, SmartRecruitersError

pytestmark = pytest.mark.integration

TOKEN = "POST /identity/oauth/token"
REDIRECT_URI = "https://user2smart.example/signin/callback"


def oauth_client(emulator, secret: str = ACME_CLIENT_SECRET) -> SmartRecruitersClient:
    return SmartRecruitersClient(
        ClientCredentials(ACME_CLIENT_ID, secret), base_url=emulator.url, timeout=(2, 10)
    )


def sign_in(emulator, email: str, state: str = "state-123") -> str:
    """Do what a person does on the allow page; answer the code from the redirect."""
    url = authorization_url(SIGNIN_APP_ID, REDIRECT_URI, state, base_url=emulator.url)
    page = requests.get(url, timeout=10)
    page.raise_for_status()
    options = dict(
        (label, value)
        for value, label in re.findall(r'<option value="([^"]+)">([^<]+)</option>', page.text)
    )
    user_id = next(value for label, value in options.items() if f"&lt;{email}&gt;" in label)
    answer = requests.post(
        f"{emulator.url}/identity/oauth/allow",
        data={
            "client_id": SIGNIN_APP_ID,
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "user_id": user_id,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def test_an_api_key_is_sent_as_smarttoken(emulator):
    client = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url)

    assert client.me()["email"] == emulator.me_email
    assert emulator.stats()["credentials"][emulator.api_key_label]["requests"] == 1


def test_a_refused_api_key_is_not_retried(emulator):
    client = SmartRecruitersClient(ApiKey("not-the-key"), base_url=emulator.url)

    with pytest.raises(AuthRefusedError) as caught:
        client.me()

    assert caught.value.status == 401
    assert emulator.stats()["requests"]["GET /users/me"] == {"401": 1}


def test_a_client_credentials_token_is_fetched_once_and_reused(emulator):
    client = oauth_client(emulator)

    for _ in range(3):
        assert client.me()["email"] == emulator.me_email

    requests_seen = emulator.stats()["requests"]
    assert requests_seen[TOKEN] == {"200": 1}
    assert requests_seen["GET /users/me"] == {"200": 3}


def test_an_expired_token_is_refreshed_once_and_the_call_repeated(emulator):
    client = oauth_client(emulator)
    client.me()
    emulator.expire_tokens()

    assert client.me()["email"] == emulator.me_email

    requests_seen = emulator.stats()["requests"]
    assert requests_seen[TOKEN] == {"200": 2}
    assert requests_seen["GET /users/me"] == {"200": 2, "401": 1}


def test_a_token_refused_after_its_refresh_stops_the_call(emulator, monkeypatch):
    client = oauth_client(emulator)
    client.me()
    # Every token is refused at once: the refreshed one too.
    monkeypatch.setattr(
        client.credential, "headers", lambda fetch: {"Authorization": "Bearer revoked"}
    )

    with pytest.raises(AuthRefusedError) as caught:
        client.me()

    assert caught.value.status == 401
    assert emulator.stats()["requests"]["GET /users/me"] == {"200": 1, "401": 2}


def test_a_wrong_client_secret_is_refused(emulator):
    client = oauth_client(emulator, secret="wrong-secret")

    with pytest.raises(AuthRefusedError) as caught:
        client.me()

    assert caught.value.status == 401
    assert caught.value.code == "invalid_client"
    assert "GET /users/me" not in emulator.stats()["requests"]


def test_authorization_url_points_at_smartrecruiters_sign_in_page():
    url = authorization_url(
        "app-id", "https://example.com/cb?x=1", "s t", scope=["users_read", "users_manage"]
    )

    assert url.startswith("https://www.smartrecruiters.com/identity/oauth/allow?")
    assert "scope=users_read%20users_manage" in url
    assert "redirect_uri=https%3A%2F%2Fexample.com%2Fcb%3Fx%3D1" in url
    assert "state=s%20t" in url
    assert "scope=" not in authorization_url("app-id", "https://example.com/cb", "s")


def test_a_signed_in_person_is_who_me_answers(emulator):
    code = sign_in(emulator, "alice.martin@acme.example")

    token = exchange_code(
        code,
        client_id=SIGNIN_APP_ID,
        client_secret=SIGNIN_APP_SECRET,
        redirect_uri=REDIRECT_URI,
        api_url=emulator.url,
    )

    assert token.refresh_token
    assert not token.expires_within(60)
    person = SmartRecruitersClient(BearerToken(token.access_token), base_url=emulator.url)
    assert person.me()["email"] == "alice.martin@acme.example"


def test_a_code_is_single_use(emulator):
    code = sign_in(emulator, "alice.martin@acme.example")
    form = {
        "client_id": SIGNIN_APP_ID,
        "client_secret": SIGNIN_APP_SECRET,
        "redirect_uri": REDIRECT_URI,
        "api_url": emulator.url,
    }
    exchange_code(code, **form)

    with pytest.raises(AuthRefusedError) as caught:
        exchange_code(code, **form)

    assert caught.value.code == "invalid_grant"


def test_a_refresh_token_gives_a_new_token_once(emulator):
    code = sign_in(emulator, "alice.martin@acme.example")
    app = {"client_id": SIGNIN_APP_ID, "client_secret": SIGNIN_APP_SECRET, "api_url": emulator.url}
    first = exchange_code(code, redirect_uri=REDIRECT_URI, **app)
    emulator.expire_tokens()

    second = refresh(first.refresh_token, **app)

    person = SmartRecruitersClient(BearerToken(second.access_token), base_url=emulator.url)
    assert person.me()["email"] == "alice.martin@acme.example"
    assert second.refresh_token != first.refresh_token
    with pytest.raises(AuthRefusedError) as caught:
        refresh(first.refresh_token, **app)
    assert caught.value.code == "invalid_grant"


def test_an_expired_bearer_token_is_refused_without_a_refresh(emulator):
    code = sign_in(emulator, "alice.martin@acme.example")
    token = exchange_code(
        code,
        client_id=SIGNIN_APP_ID,
        client_secret=SIGNIN_APP_SECRET,
        redirect_uri=REDIRECT_URI,
        api_url=emulator.url,
    )
    emulator.expire_tokens()
    person = SmartRecruitersClient(BearerToken(token.access_token), base_url=emulator.url)

    with pytest.raises(AuthRefusedError):
        person.me()

    assert emulator.stats()["requests"]["GET /users/me"] == {"401": 1}


def test_no_secret_reaches_logs_messages_or_reprs(emulator, caplog):
    seen: list[str] = []
    secrets = [ACME_API_KEY, ACME_CLIENT_SECRET, SIGNIN_APP_SECRET]
    with caplog.at_level(logging.DEBUG):
        api_key = SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url=emulator.url)
        oauth = oauth_client(emulator)
        oauth.me()
        emulator.expire_tokens()
        oauth.me()  # refreshed
        seen += [repr(api_key), repr(oauth), repr(oauth.credential)]
        code = sign_in(emulator, "alice.martin@acme.example")
        token = exchange_code(
            code,
            client_id=SIGNIN_APP_ID,
            client_secret=SIGNIN_APP_SECRET,
            redirect_uri=REDIRECT_URI,
            api_url=emulator.url,
        )
        secrets += [token.access_token, token.refresh_token, code]
        seen += [repr(token), str(token), repr(BearerToken(token.access_token))]
        emulator.faults(error_rate=1.0)
        failures = [
            lambda: api_key.me(),
            lambda: oauth_client(emulator, secret="wrong-secret").me(),
            lambda: SmartRecruitersClient(
                BearerToken(token.access_token), base_url=emulator.url
            ).me(),
            lambda: exchange_code(
                code,
                client_id=SIGNIN_APP_ID,
                client_secret=SIGNIN_APP_SECRET,
                redirect_uri=REDIRECT_URI,
                api_url=emulator.url,
            ),
            lambda: SmartRecruitersClient(ApiKey(ACME_API_KEY), base_url="http://127.0.0.1:9").me(),
        ]
        for failure in failures:
            with pytest.raises(SmartRecruitersError) as caught:
                failure()
            seen += [str(caught.value), repr(caught.value), str(caught.value.__cause__)]

    seen.append(caplog.text)
    assert "GET /users/me" in caplog.text  # the calls were logged...
    assert isinstance(token, OAuthToken)
    for secret in secrets:  # ...without a secret
        assert all(secret not in text for text in seen), "a secret leaked"
