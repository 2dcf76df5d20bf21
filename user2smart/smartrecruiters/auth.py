"""Credentials for the SmartRecruiters API and the OAuth flows.

Three credentials, one interface (`headers()` and `refresh()`):

- `ApiKey`: the company's API key, sent as `X-SmartToken`.
- `ClientCredentials`: an OAuth client id and secret; the client-credentials token is fetched from
  `POST /identity/oauth/token`, cached until shortly before it expires, and fetched again once
  when SmartRecruiters answers 401.
- `BearerToken`: a token someone already holds (the signed-in person's, for `me`).

And the authorization-code flow of "Sign in with SmartRecruiters": `authorization_url()`,
`exchange_code()` and `refresh()`, each giving an `OAuthToken`.

No repr, log line or exception message contains a key, secret or token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import requests

from user2smart.smartrecruiters.errors import (
    AuthRefusedError,
    RejectedError,
    UnexpectedResponseError,
)
from user2smart.smartrecruiters.ratelimit import RateLimiter
from user2smart.smartrecruiters.transport import DEFAULT_TIMEOUT, Timeout, send

PRODUCTION_API_URL = "https://api.smartrecruiters.com"
PRODUCTION_SIGNIN_URL = "https://www.smartrecruiters.com"
TOKEN_PATH = "/identity/oauth/token"  # noqa: S105 (a path, not a secret)
ALLOW_PATH = "/identity/oauth/allow"
# SmartRecruiters does not document the lifetime of every token; this is assumed when
# `expires_in` is missing (auth-code tokens live 30 minutes).
DEFAULT_TOKEN_SECONDS = 1800
# A cached token is replaced this long before it expires.
EARLY_REFRESH_SECONDS = 60


@dataclass(frozen=True)
class OAuthToken:
    access_token: str = field(repr=False)
    expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    token_type: str = "Bearer"  # noqa: S105
    scope: str | None = None

    def expires_within(self, seconds: float) -> bool:
        return datetime.now(UTC) + timedelta(seconds=seconds) >= self.expires_at


TokenFetcher = Callable[[dict[str, str]], OAuthToken]


def request_token(
    form: dict[str, str],
    *,
    api_url: str = PRODUCTION_API_URL,
    session: requests.Session | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    limiter: RateLimiter | None = None,
) -> OAuthToken:
    """POST a form to the token endpoint and read the token it returns.

    A refused grant or client (400, 401, 403) raises `AuthRefusedError` with OAuth's `error`
    as `code`; a 429/5xx or a network failure raises `RetryableError`.
    """
    what = f"POST {TOKEN_PATH} ({form.get('grant_type', '?')})"
    owns_session = session is None
    session = session or requests.Session()
    try:
        try:
            response = send(
                session,
                "POST",
                api_url.rstrip("/") + TOKEN_PATH,
                what=what,
                timeout=timeout,
                limiter=limiter,
                data=form,
            )
        except RejectedError as exc:
            if exc.status == 400:  # invalid_grant, invalid_client, unsupported_grant_type
                raise AuthRefusedError(exc.message, status=400, code=exc.code) from exc
            raise
        return _token_from_response(response, what=what)
    finally:
        if owns_session:
            session.close()


def _token_from_response(response: requests.Response, *, what: str) -> OAuthToken:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise UnexpectedResponseError(
            f"{what} returned no access_token", status=response.status_code
        )
    try:
        seconds = float(body.get("expires_in") or DEFAULT_TOKEN_SECONDS)
    except (TypeError, ValueError):
        seconds = DEFAULT_TOKEN_SECONDS
    refresh_token = body.get("refresh_token")
    return OAuthToken(
        access_token=body["access_token"],
        expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
        refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        token_type=str(body.get("token_type") or "Bearer"),
        scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
    )


def authorization_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    scope: str | Sequence[str] | None = None,
    *,
    base_url: str = PRODUCTION_SIGNIN_URL,
) -> str:
    """Where to send a person for "Sign in with SmartRecruiters".

    Scopes are space-separated (`%20` in the URL); with no scope SmartRecruiters uses the app's
    defaults (an empty `scope=` is invalid, so it is left out).
    """
    params = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code"}
    if scope:
        params["scope"] = scope if isinstance(scope, str) else " ".join(scope)
    params["state"] = state
    return f"{base_url.rstrip('/')}{ALLOW_PATH}?{urlencode(params, quote_via=quote)}"


def exchange_code(
    code: str,
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    api_url: str = PRODUCTION_API_URL,
    session: requests.Session | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> OAuthToken:
    """Trade the code SmartRecruiters put on the redirect for an access and a refresh token."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return request_token(form, api_url=api_url, session=session, timeout=timeout)


def refresh(
    refresh_token: str,
    *,
    client_id: str,
    client_secret: str,
    api_url: str = PRODUCTION_API_URL,
    session: requests.Session | None = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> OAuthToken:
    """A new token from a refresh token. Refresh tokens are single-use: keep the new one."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return request_token(form, api_url=api_url, session=session, timeout=timeout)


class Credential(Protocol):
    def headers(self, fetch_token: TokenFetcher) -> dict[str, str]:
        """The headers that authenticate a request (fetching a token first if needed)."""
        ...

    def refresh(self, fetch_token: TokenFetcher, used: dict[str, str]) -> bool:
        """After a 401 for `used` headers: get fresh ones. False when nothing can be refreshed."""
        ...


class ApiKey:
    """An API key, sent as `X-SmartToken`. Nothing to refresh."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("The API key is empty.")
        self._key = key

    def __repr__(self) -> str:
        return "<ApiKey ***>"

    def headers(self, fetch_token: TokenFetcher) -> dict[str, str]:
        return {"X-SmartToken": self._key}

    def refresh(self, fetch_token: TokenFetcher, used: dict[str, str]) -> bool:
        return False


class BearerToken:
    """A token obtained elsewhere (the signed-in person's), sent as `Authorization: Bearer`."""

    def __init__(self, access_token: str) -> None:
        if not access_token:
            raise ValueError("The access token is empty.")
        self._token = access_token

    def __repr__(self) -> str:
        return "<BearerToken ***>"

    def headers(self, fetch_token: TokenFetcher) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def refresh(self, fetch_token: TokenFetcher, used: dict[str, str]) -> bool:
        return False


class ClientCredentials:
    """An OAuth client id and secret (client-credentials grant). Thread-safe: one token fetch at a
    time, shared by every thread using this object."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("The OAuth client id or secret is empty.")
        self.client_id = client_id
        self._secret = client_secret
        self._token: OAuthToken | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<ClientCredentials {self.client_id} ***>"

    def headers(self, fetch_token: TokenFetcher) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._token.expires_within(EARLY_REFRESH_SECONDS):
                self._token = fetch_token(self._form())
            return {"Authorization": f"Bearer {self._token.access_token}"}

    def refresh(self, fetch_token: TokenFetcher, used: dict[str, str]) -> bool:
        with self._lock:
            current = self._token
            stale = current is None or used.get("Authorization") == (
                f"Bearer {current.access_token}"
            )
            if stale:  # not already replaced by another thread
                self._token = fetch_token(self._form())
            return True

    def _form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
        }
