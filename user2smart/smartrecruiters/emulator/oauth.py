"""OAuth 2.0 as SmartRecruiters serves it: the token endpoint and the sign-in ("allow") page.

- `client_credentials`: a company's OAuth client; the token acts as the company's `me` user.
- `authorization_code`: an `oauth_apps` application; a person picks a user on
  `/identity/oauth/allow`, the app trades the code for tokens acting as that person.
- `refresh_token`: single use; answers a new access token and a new refresh token.
"""

from __future__ import annotations

import base64
import hmac
import html
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from user2smart.smartrecruiters.emulator.responses import (
    Response,
    empty_response,
    html_response,
    json_response,
)
from user2smart.smartrecruiters.emulator.store import Principal, Store
from user2smart.smartrecruiters.emulator.world import OAuthClient

CODE_TTL_SECONDS = 600
FORM = "application/x-www-form-urlencoded"
_NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class _Code:
    client_id: str
    redirect_uri: str
    principal: Principal
    expires_at: float


@dataclass(frozen=True, slots=True)
class _Refresh:
    client_id: str
    principal: Principal


def oauth_error(status: int, error: str, description: str) -> Response:
    """RFC 6749 fields plus SmartRecruiters' `message`/`errors`: either kind of client reads it."""
    body = {
        "error": error,
        "error_description": description,
        "message": description,
        "errors": [{"code": error, "message": description}],
    }
    return json_response(status, body, _NO_STORE)


class Tokens:
    """Issued access tokens, refresh tokens and authorization codes (in memory only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, tuple[Principal, float]] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._codes: dict[str, _Code] = {}

    def clear(self) -> None:
        with self._lock:
            self._access.clear()
            self._refresh.clear()
            self._codes.clear()

    def expire_all(self) -> None:
        """Every access token stops working at once; refresh tokens still do."""
        with self._lock:
            self._access.clear()

    def revoke_client(self, client_id: str) -> None:
        """The tokens issued to a withdrawn client stop working (access and refresh)."""
        with self._lock:
            for token, (principal, _) in list(self._access.items()):
                if principal.label.endswith(f"/{client_id}"):
                    del self._access[token]
            for token, refresh in list(self._refresh.items()):
                if refresh.client_id == client_id:
                    del self._refresh[token]

    def principal(self, token: str) -> Principal | None:
        with self._lock:
            found = self._access.get(token)
            if found is None:
                return None
            principal, expires_at = found
            if time.time() >= expires_at:
                del self._access[token]
                return None
            return principal

    def issue(self, principal: Principal, ttl: int, refresh_for: str | None = None) -> dict:
        token = secrets.token_urlsafe(32)
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
        with self._lock:
            self._access[token] = (principal, time.time() + ttl)
            if refresh_for is not None:
                refresh = secrets.token_urlsafe(32)
                self._refresh[refresh] = _Refresh(refresh_for, principal)
                answer["refresh_token"] = refresh
        return answer

    def new_code(self, client_id: str, redirect_uri: str, principal: Principal) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            expires_at = time.time() + CODE_TTL_SECONDS
            self._codes[code] = _Code(client_id, redirect_uri, principal, expires_at)
        return code

    def redeem_code(self, code: str) -> _Code | None:
        with self._lock:
            found = self._codes.pop(code, None)
        return found if found and time.time() < found.expires_at else None

    def redeem_refresh(self, token: str) -> _Refresh | None:
        with self._lock:
            return self._refresh.pop(token, None)


def _client_auth(headers: dict[str, str], form: dict[str, str]) -> tuple[str, str]:
    """client_id and client_secret from the form, or from HTTP Basic authentication."""
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def token_endpoint(store: Store, tokens: Tokens, headers: dict[str, str], body: bytes) -> Response:
    """`POST /identity/oauth/token` (form-encoded)."""
    if not headers.get("content-type", "").lower().startswith(FORM):
        return oauth_error(400, "invalid_request", f"The body must be {FORM}.")
    form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
    client_id, secret = _client_auth(headers, form)
    client = store.client(client_id) if client_id else None
    if client is None or not hmac.compare_digest(client.client_secret, secret):
        return oauth_error(401, "invalid_client", "Unknown client or wrong client secret.")
    grant = form.get("grant_type")
    ttl = store.token_ttl_seconds()
    if grant == "client_credentials":
        if client.is_app:
            return oauth_error(400, "unauthorized_client", "This application signs people in.")
        return json_response(200, tokens.issue(store.company_principal(client), ttl), _NO_STORE)
    if grant == "authorization_code":
        code = tokens.redeem_code(form.get("code", ""))
        if code is None or code.client_id != client.client_id:
            return oauth_error(400, "invalid_grant", "The code is unknown, used or expired.")
        if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
            return oauth_error(400, "invalid_grant", "redirect_uri differs from the sign-in's.")
        answer = tokens.issue(code.principal, ttl, refresh_for=client.client_id)
        return json_response(200, answer, _NO_STORE)
    if grant == "refresh_token":
        refresh = tokens.redeem_refresh(form.get("refresh_token", ""))
        if refresh is None or refresh.client_id != client.client_id:
            return oauth_error(400, "invalid_grant", "The refresh token is unknown or used.")
        answer = tokens.issue(refresh.principal, ttl, refresh_for=client.client_id)
        return json_response(200, answer, _NO_STORE)
    return oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported.")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - SmartRecruiters emulator</title>
</head><body>
<h1>Sign in to {app}</h1>
<p>SmartRecruiters emulator: pick the user you sign in as.</p>
<form method="post" action="/identity/oauth/allow">
<input type="hidden" name="client_id" value="{client_id}">
<input type="hidden" name="redirect_uri" value="{redirect_uri}">
<input type="hidden" name="state" value="{state}">
<label for="user_id">User</label>
<select id="user_id" name="user_id">
{options}
</select>
<button type="submit">Allow</button>
</form>
</body></html>
"""


def _problem(message: str) -> Response:
    page = f"<!doctype html><html><body><h1>Sign-in failed</h1><p>{html.escape(message)}</p>"
    return html_response(400, page + "</body></html>")


def _app_and_redirect(store: Store, params: dict[str, str]) -> tuple[OAuthClient, str] | Response:
    client = store.client(params.get("client_id", ""))
    if client is None or not client.is_app:
        return _problem("Unknown application (client_id).")
    redirect_uri = params.get("redirect_uri", "")
    if urlsplit(redirect_uri).scheme not in {"http", "https"}:
        return _problem("redirect_uri must be an http(s) address.")
    if client.redirect_uris and redirect_uri not in client.redirect_uris:
        return _problem("redirect_uri is not one of the application's.")
    return client, redirect_uri


def allow_page(store: Store, query: str) -> Response:
    """`GET /identity/oauth/allow?client_id=…&redirect_uri=…&state=…`: the sign-in form."""
    params = {k: v[0] for k, v in parse_qs(query).items()}
    checked = _app_and_redirect(store, params)
    if isinstance(checked, Response):
        return checked
    client, redirect_uri = checked
    options = "\n".join(
        f'<option value="{html.escape(user_id)}">{html.escape(label)}</option>'
        for user_id, label in store.people()
    )
    page = _PAGE.format(
        app=html.escape(client.client_id),
        client_id=html.escape(client.client_id),
        redirect_uri=html.escape(redirect_uri),
        state=html.escape(params.get("state", "")),
        options=options,
    )
    return html_response(200, page)


def allow_submit(store: Store, tokens: Tokens, body: bytes) -> Response:
    """`POST /identity/oauth/allow` (client_id, redirect_uri, state, user_id): 302 with a code."""
    form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
    checked = _app_and_redirect(store, form)
    if isinstance(checked, Response):
        return checked
    client, redirect_uri = checked
    principal = store.person_principal(form.get("user_id", ""), client)
    if principal is None:
        return _problem("Pick an active user.")
    code = tokens.new_code(client.client_id, redirect_uri, principal)
    query = {"code": code, **({"state": form["state"]} if form.get("state") else {})}
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return empty_response(302, {"Location": f"{redirect_uri}{separator}{urlencode(query)}"})
