"""The SmartRecruiters User API client (v201804): one method per endpoint the product uses.

    client = SmartRecruitersClient(ApiKey(key), base_url=company.api_url, limiter=limiter)
    for user in client.list_users(): ...

Plain Python and requests, no Django. Each call makes one attempt and raises a typed error
(`errors.py`); Celery row tasks do the retrying. `retries=N` is opt-in, for synchronous multi-page
reads (the directory snapshot, the export): it retries `RetryableError`s of GET requests, and
only 429s of other methods (a 429 was refused, so it cannot have created anything), with
exponential back-off that honours `Retry-After`. `slot_timeout=S` bounds each call's wait for a
rate-limit slot (row tasks hand their row back rather than hold a worker process).

A client holds one `requests.Session` (keep-alive): use one client per thread.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

from user2smart.smartrecruiters.auth import (
    PRODUCTION_API_URL,
    Credential,
    OAuthToken,
    request_token,
)
from user2smart.smartrecruiters.errors import (
    AuthRefusedError,
    RetryableError,
    UnexpectedResponseError,
)
from user2smart.smartrecruiters.ratelimit import RateLimiter
from user2smart.smartrecruiters.transport import DEFAULT_TIMEOUT, Timeout, send

logger = logging.getLogger(__name__)

API_PATH = "/user-api/v201804"
PAGE_SIZE = 100
RETRY_BASE_SECONDS = 1.0
RETRY_CAP_SECONDS = 30.0

User = dict[str, Any]


class SmartRecruitersClient:
    def __init__(
        self,
        credential: Credential,
        *,
        base_url: str = PRODUCTION_API_URL,
        limiter: RateLimiter | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retries: int = 0,
        slot_timeout: float | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.credential = credential
        self.base_url = base_url.rstrip("/")
        self.limiter = limiter
        self.timeout = timeout
        self.retries = retries
        self.slot_timeout = slot_timeout
        self.session = session or _session(self.base_url)

    def __repr__(self) -> str:
        return f"<SmartRecruitersClient {self.base_url} {self.credential!r}>"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SmartRecruitersClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Users -------------------------------------------------------------------------------------

    def list_users(
        self, *, q: str | None = None, updated_after: str | None = None
    ) -> Iterator[User]:
        """Every user (or every match of `q`), page after page of 100."""
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        if q is not None:
            params["q"] = q
        if updated_after is not None:
            params["updatedAfter"] = updated_after
        seen: set[str] = set()
        while True:
            page = self._json("GET", "/users", params=params)
            content = page.get("content")
            if not isinstance(content, list):
                raise UnexpectedResponseError("GET /users returned a page without content")
            yield from content
            next_page = page.get("nextPageId")
            if not next_page or not content:
                return
            if next_page in seen:  # a cursor that loops would never end: refuse a partial read
                raise UnexpectedResponseError("GET /users returned the same nextPageId twice")
            seen.add(next_page)
            params["pageId"] = next_page

    def search_users(self, q: str) -> list[User]:
        """What SmartRecruiters' full-text search finds for `q` (fuzzy: see find_user_by_email)."""
        return list(self.list_users(q=q))

    def find_user_by_email(self, email: str) -> User | None:
        """The user whose email is `email` (ignoring case), or None."""
        wanted = email.strip().casefold()
        if not wanted:
            return None
        for user in self.list_users(q=email.strip()):
            if str(user.get("email") or "").strip().casefold() == wanted:
                return user
        return None

    def get_user(self, user_id: str) -> User:
        return self._json("GET", f"/users/{_segment(user_id)}", what="GET /users/{id}")

    def me(self) -> User:
        """The user the credential acts as (for a BearerToken: the signed-in person)."""
        return self._json("GET", "/users/me")

    def create_user(self, user: Mapping[str, Any]) -> User:
        """POST /users. Not safe to repeat after a timeout: look the email up first."""
        return self._json("POST", "/users", json=dict(user))

    def patch_user(self, user_id: str, operations: Sequence[Mapping[str, Any]]) -> User:
        """Apply RFC 6902 JSON-Patch operations (`[{"op", "path", "value"}]`) to a user."""
        return self._json(
            "PATCH",
            f"/users/{_segment(user_id)}",
            what="PATCH /users/{id}",
            data=json.dumps([dict(op) for op in operations]),
            headers={"Content-Type": "application/json-patch+json"},
        )

    def activate_user(self, user_id: str) -> None:
        self._call(
            "PUT", f"/users/{_segment(user_id)}/activation", what="PUT /users/{id}/activation"
        )

    def deactivate_user(self, user_id: str) -> None:
        self._call(
            "DELETE", f"/users/{_segment(user_id)}/activation", what="DELETE /users/{id}/activation"
        )

    def send_activation_email(self, user_id: str) -> None:
        self._call(
            "POST",
            f"/users/{_segment(user_id)}/activation-email",
            what="POST /users/{id}/activation-email",
        )

    # Roles and access groups -------------------------------------------------------------------

    def list_system_roles(self) -> list[dict[str, Any]]:
        return self._content("/system-roles")

    def list_access_groups(self) -> list[dict[str, Any]]:
        return self._content("/access-groups")

    def add_users_to_access_group(self, group_id: str, user_ids: Sequence[str]) -> Any:
        """POST /access-groups/{id}/users with a JSON array of user ids; the body, if any."""
        response = self._call(
            "POST",
            f"/access-groups/{_segment(group_id)}/users",
            what="POST /access-groups/{id}/users",
            json=list(user_ids),
        )
        return _optional_json(response)

    def remove_user_from_access_group(self, group_id: str, user_id: str) -> None:
        self._call(
            "DELETE",
            f"/access-groups/{_segment(group_id)}/users/{_segment(user_id)}",
            what="DELETE /access-groups/{id}/users/{userId}",
        )

    # Plumbing ----------------------------------------------------------------------------------

    def _content(self, path: str) -> list[dict[str, Any]]:
        body = self._json("GET", path)
        content = body.get("content")
        if not isinstance(content, list):
            raise UnexpectedResponseError(f"GET {path} returned no content list")
        return content

    def _json(self, method: str, path: str, *, what: str | None = None, **kwargs: Any) -> Any:
        what = what or f"{method} {path}"
        response = self._call(method, path, what=what, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise UnexpectedResponseError(
                f"{what} returned a body that is not JSON", status=response.status_code
            ) from None
        if not isinstance(body, dict):
            raise UnexpectedResponseError(
                f"{what} returned JSON that is not an object", status=response.status_code
            )
        return body

    def _call(
        self, method: str, path: str, *, what: str | None = None, **kwargs: Any
    ) -> requests.Response:
        what = what or f"{method} {path}"
        attempt = 0
        while True:
            try:
                return self._authenticated(method, path, what=what, **kwargs)
            except RetryableError as exc:
                if attempt >= self.retries or not (method == "GET" or exc.status == 429):
                    raise
                attempt += 1
                wait = _retry_wait(exc, attempt)
                logger.info(
                    "SmartRecruiters %s: %s; try %d of %d in %.1f s",
                    what,
                    exc.status or "network error",
                    attempt + 1,
                    self.retries + 1,
                    wait,
                )
                time.sleep(wait)

    def _authenticated(
        self, method: str, path: str, *, what: str, **kwargs: Any
    ) -> requests.Response:
        """One request; on a 401 a refreshable credential gets a new token and it is sent once
        more. A 401/403 after that raises AuthRefusedError."""
        extra = kwargs.pop("headers", {})
        auth = self.credential.headers(self._fetch_token)
        try:
            return self._send(method, path, what=what, headers={**auth, **extra}, **kwargs)
        except AuthRefusedError as exc:
            if exc.status != 401 or not self.credential.refresh(self._fetch_token, auth):
                raise
        logger.info("SmartRecruiters %s: 401, token refreshed, sending once more", what)
        auth = self.credential.headers(self._fetch_token)
        return self._send(method, path, what=what, headers={**auth, **extra}, **kwargs)

    def _send(self, method: str, path: str, *, what: str, **kwargs: Any) -> requests.Response:
        return send(
            self.session,
            method,
            f"{self.base_url}{API_PATH}{path}",
            what=what,
            timeout=self.timeout,
            limiter=self.limiter,
            slot_timeout=self.slot_timeout,
            **kwargs,
        )

    def _fetch_token(self, form: dict[str, str]) -> OAuthToken:
        return request_token(
            form,
            api_url=self.base_url,
            session=self.session,
            timeout=self.timeout,
            limiter=self.limiter,
        )


def _session(base_url: str) -> requests.Session:
    """A session that reads the environment's proxy and CA settings once, when it is made:
    requests otherwise scans the whole environment again on every request."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    session.trust_env = False
    return session


def _retry_wait(exc: RetryableError, attempt: int) -> float:
    if exc.retry_after is not None:
        return exc.retry_after
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 (jitter)


def _segment(value: str) -> str:
    """A path segment: ids are opaque, so anything in them is escaped."""
    if not value:
        raise ValueError("An empty id cannot name a SmartRecruiters resource.")
    return quote(str(value), safe="")


def _optional_json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
