"""The exceptions of the SmartRecruiters client, and how an HTTP answer maps to one.

Every failure the client raises is a `SmartRecruitersError`:

- `RetryableError`: a timeout, a connection error, a 429 or a 5xx. Trying again later may work.
  `retry_after` is the wait the server asked for (seconds), or None when it gave none.
- `RejectedError`: any other 4xx. The request itself is wrong; SmartRecruiters' error `code` and
  `message` say why. Trying again will not help.
- `AuthRefusedError`: the credential was refused (401/403, after the one token refresh).
- `UnexpectedResponseError`: a success status whose body is not what the API documents.

Messages never contain a token, key, secret or password: they are built from the status, the
method, the path and SmartRecruiters' own error text only.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

# A Retry-After far in the future is a server bug or a bogus proxy; never wait longer than this.
MAX_RETRY_AFTER_SECONDS = 600.0
# How much of an error body ends up in a message when the body is not SmartRecruiters' JSON.
_BODY_EXCERPT = 120
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")


class SmartRecruitersError(Exception):
    """Base class of every error the SmartRecruiters client raises."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RetryableError(SmartRecruitersError):
    """A transient failure: timeout, connection error, 429 or 5xx."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after

    @property
    def throttled(self) -> bool:
        return self.status == 429


class RejectedError(SmartRecruitersError):
    """SmartRecruiters refused the request (4xx other than 401/403/429): final."""

    def __init__(self, message: str, *, status: int, code: str | None = None) -> None:
        super().__init__(message, status=status)
        self.code = code


class AuthRefusedError(SmartRecruitersError):
    """The credential was refused (401/403), after the one refresh a token credential gets."""

    def __init__(self, message: str, *, status: int | None, code: str | None = None) -> None:
        super().__init__(message, status=status)
        self.code = code


class UnexpectedResponseError(SmartRecruitersError):
    """A success status with a body the client cannot use (not JSON, wrong shape)."""


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to `Retry-After` (seconds or an HTTP date) or, failing that,
    `X-RateLimit-Reset` (seconds, or a Unix time). None when the server said nothing usable."""
    value = headers.get("Retry-After")
    seconds = _seconds_from_header(value, now=now) if value else None
    if seconds is None:
        reset = headers.get("X-RateLimit-Reset")
        seconds = _seconds_from_header(reset, now=now) if reset else None
    if seconds is None:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _seconds_from_header(value: str, *, now: datetime | None) -> float | None:
    value = value.strip()
    now = now or datetime.now(UTC)
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number):
            return None
        if number > 1_000_000_000:  # a Unix time, not a delay
            return number - now.timestamp()
        return number
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def error_details(response: requests.Response) -> tuple[str | None, str | None]:
    """SmartRecruiters' (code, message) from an error body; (None, None) when it has none.

    Understands the User API's `{"message", "errors": [{"code", "message"}]}` and the OAuth
    token endpoint's `{"error", "error_description"}`. A body that is not JSON (an HTML page from
    a proxy) gives a short, single-line excerpt as the message.
    """
    try:
        body: Any = response.json()
    except ValueError:
        return None, _text_excerpt(response.text or "")
    if not isinstance(body, dict):
        return None, None
    code: str | None = None
    message = body.get("message")
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = _text(first.get("code"))
        message = message or first.get("message")
    if code is None and isinstance(body.get("error"), str):  # OAuth token endpoint
        code = body["error"]
        message = message or body.get("error_description")
    return code, _text(message)


def _text_excerpt(text: str) -> str | None:
    """The title of an HTML page, or the start of a plain-text body, on one line."""
    title = _HTML_TITLE.search(text)
    if title:
        text = title.group(1)
    elif "<" in text:
        text = _HTML_TAG.sub(" ", text)
    text = " ".join(text.split())
    return text[:_BODY_EXCERPT] or None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


def error_for_response(response: requests.Response, *, what: str) -> SmartRecruitersError:
    """The exception for a non-2xx answer. `what` names the call ("GET /users/{id}")."""
    status = response.status_code
    code, detail = error_details(response)
    message = f"{what} failed: HTTP {status}"
    if code:
        message += f" {code}"
    if detail:
        message += f": {detail}"
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers)
        if retry_after is None and status == 429:
            retry_after = _window_wait(response.headers)
        return RetryableError(message, status=status, retry_after=retry_after)
    if status in (401, 403):
        return AuthRefusedError(message, status=status, code=code)
    return RejectedError(message, status=status, code=code)


def _window_wait(headers: Mapping[str, str]) -> float | None:
    """A 429 that says the one-second request window is used up asks for (at most) a second."""
    if headers.get("X-RateLimit-Remaining", "").strip() == "0":
        return 1.0
    return None
