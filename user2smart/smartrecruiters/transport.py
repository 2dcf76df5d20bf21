"""One HTTP request to SmartRecruiters: through the rate limiter, with a timeout, typed errors.

Shared by the API client and the OAuth token calls. One attempt, no retries: callers decide.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests

from user2smart.smartrecruiters.errors import (
    RetryableError,
    UnexpectedResponseError,
    error_for_response,
)
from user2smart.smartrecruiters.ratelimit import RateLimiter

logger = logging.getLogger(__name__)

Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (5.0, 60.0)
USER_AGENT = "User2Smart/1 (+https://github.com/user2smart)"
_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept": "application/json",
    "Accept-Encoding": requests.utils.DEFAULT_ACCEPT_ENCODING,
}

# Network failures worth another try later; anything else requests raises is a programming error.
_TRANSIENT = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    timeout: Timeout,
    limiter: RateLimiter | None = None,
    slot_timeout: float | None = None,
    **kwargs: Any,
) -> requests.Response:
    """Send one request and return the 2xx response, or raise a `SmartRecruitersError`.

    `what` names the call in logs and messages ("GET /users/{id}"): never a secret, never a
    query string. With a limiter the request runs inside `limiter.slot()`, and a 429 makes the
    credential back off (for every process) before the error is raised. `slot_timeout` bounds
    the wait for a slot (`RateLimitWaitTimeout`, nothing sent); None waits as long as it takes.
    """
    headers = {**_HEADERS, **kwargs.pop("headers", {})}
    # Prepared here and sent as is: the session's proxy and CA settings were read once, when it
    # was made, and merging the session's defaults again on every call costs more CPU than the
    # call itself on a busy worker (docs/performance.md). Redirects are never followed.
    prepared = requests.Request(method, url, headers=headers, **kwargs).prepare()
    started = time.monotonic()
    try:
        if limiter is None:
            response = _send_prepared(session, prepared, timeout)
        else:
            with limiter.slot(slot_timeout):
                response = _send_prepared(session, prepared, timeout)
    except _TRANSIENT as exc:
        kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
        logger.info("SmartRecruiters %s %s after %.0f ms", what, kind, _ms(started))
        raise RetryableError(f"{what} {kind} ({type(exc).__name__})") from exc
    logger.debug("SmartRecruiters %s -> %s in %.0f ms", what, response.status_code, _ms(started))
    if response.status_code < 300:
        if limiter is not None:
            limiter.succeeded()
        return response
    if response.status_code < 400:
        raise UnexpectedResponseError(
            f"{what} was redirected (HTTP {response.status_code}); redirects are not followed, "
            "so credentials never reach another host"
        )
    error = error_for_response(response, what=what)
    if response.status_code == 429 and limiter is not None:
        limiter.backoff(getattr(error, "retry_after", None))
    raise error


def _send_prepared(
    session: requests.Session, prepared: requests.PreparedRequest, timeout: Timeout
) -> requests.Response:
    return session.send(
        prepared,
        timeout=timeout,
        allow_redirects=False,
        stream=False,
        verify=session.verify,
        proxies=session.proxies,
        cert=session.cert,
    )


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
