"""A company's way into SmartRecruiters: its client, behind its shared rate limiter, and the
words that tell the company's admin why a call did not work."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from user2smart.companies.models import Company
from user2smart.redis_client import get_redis
from user2smart.smartrecruiters.auth import ApiKey, ClientCredentials, Credential
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import (
    AuthRefusedError,
    RejectedError,
    RetryableError,
    SmartRecruitersError,
)
from user2smart.smartrecruiters.ratelimit import RateLimiter, RateLimitWaitTimeout
from user2smart.smartrecruiters.transport import Timeout

log = logging.getLogger(__name__)

_local = threading.local()
_saved: dict[int, tuple[object, Company]] = {}


def credential_for(company: Company) -> Credential:
    if company.credential_type == Company.Credential.OAUTH_CLIENT:
        return ClientCredentials(company.oauth_client_id, company.oauth_client_secret)
    return ApiKey(company.api_key)


def limiter_for(company: Company) -> RateLimiter:
    return RateLimiter(
        get_redis(),
        f"company-{company.pk}-{company.credential_id}",
        rps=company.rate_limit_rps,
        concurrency=company.rate_limit_concurrency,
        # A slot left by a killed process comes back a little after any call could still run.
        lease_seconds=settings.SMARTRECRUITERS_READ_TIMEOUT + 10,
        prefix=settings.RATE_LIMIT_REDIS_PREFIX,
    )


def client_for(
    company: Company,
    *,
    retries: int = 0,
    timeout: Timeout | None = None,
    slot_timeout: float | None = None,
) -> SmartRecruitersClient:
    """A new client for the company (its own HTTP session): for one-off work."""
    return SmartRecruitersClient(
        credential_for(company),
        base_url=company.api_url,
        limiter=limiter_for(company),
        timeout=timeout or default_timeout(),
        retries=retries,
        slot_timeout=slot_timeout,
    )


def default_timeout() -> Timeout:
    return (settings.SMARTRECRUITERS_CONNECT_TIMEOUT, settings.SMARTRECRUITERS_READ_TIMEOUT)


def company_as_saved(pk: int, version: object) -> Company:
    """The company as last saved, kept by this process between tasks: the rows of a run name it
    with its `updated_at` (`version`), read in the same query as the row, so a saved change (a
    new credential, a new limit) is seen by the next row without every row loading the company.
    """
    kept = _saved.get(pk)
    if kept is None or kept[0] != version:
        kept = (version, Company.objects.get(pk=pk))
        _saved[pk] = kept
    return kept[1]


def shared_client_for(
    company: Company, *, slot_timeout: float | None = None
) -> SmartRecruitersClient:
    """The calling thread's client for the company, kept between tasks (keep-alive, cached
    OAuth token). A changed credential or limit gives a new client. `slot_timeout` bounds each
    call's wait for a rate-limit slot."""
    clients: dict = getattr(_local, "clients", None) or {}
    _local.clients = clients
    key = (
        company.pk,
        company.credential_id,
        company.api_url,
        company.rate_limit_rps,
        company.rate_limit_concurrency,
        slot_timeout,
    )
    client = clients.get(company.pk)
    if client is None or client[0] != key:
        if client is not None:
            client[1].close()
        client = (key, client_for(company, slot_timeout=slot_timeout))
        clients[company.pk] = client
    return client[1]


class CompanyApiError(Exception):
    """SmartRecruiters did not do what a company's call asked; `message` says why, for the
    company's admin (no secret in it). `retryable` is true when trying again later may work."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@contextmanager
def company_api(
    company: Company,
    *,
    doing: str,
    retries: int = 0,
    timeout: Timeout | None = None,
    ask_to_retry: bool = True,
) -> Iterator[SmartRecruitersClient]:
    """`with company_api(company, doing="read the company's users") as client:` a new client
    for the company; any SmartRecruiters error in the block becomes a `CompanyApiError` whose
    message is `api_error_message(...)`."""
    try:
        with client_for(company, retries=retries, timeout=timeout) as client:
            yield client
    except SmartRecruitersError as exc:
        log.warning("%s: could not %s: %s", company.slug, doing, exc)
        message = api_error_message(exc, company=company, doing=doing, ask_to_retry=ask_to_retry)
        raise CompanyApiError(message, retryable=isinstance(exc, RetryableError)) from exc


def api_error_message(
    exc: SmartRecruitersError, *, company: Company, doing: str, ask_to_retry: bool = True
) -> str:
    """Why SmartRecruiters did not let User2Smart do `doing` (a verb phrase: "read the company's
    users"), in words an HR admin understands, with what to do next.

    `ask_to_retry=False` when the caller tries again by itself: a transient failure then does not
    ask the reader to. The message holds the company's name, its API address (without any user,
    password, query or fragment) and the client's own error text (the call, the HTTP status and
    SmartRecruiters' own words), which never holds a secret.
    """
    failed = f"so User2Smart could not {doing}"
    detail = str(exc).rstrip(". ")
    again = " Please try again in a few minutes." if ask_to_retry else ""
    if isinstance(exc, AuthRefusedError):
        status = f" (HTTP {exc.status})" if exc.status else ""
        return (
            f"SmartRecruiters refused the credential of {company.name}{status}, {failed}. Ask "
            "the User2Smart team to check the company's API key or OAuth client."
        )
    if isinstance(exc, RateLimitWaitTimeout):  # nothing was sent
        return f"The company's SmartRecruiters rate limit is in full use, {failed}.{again}"
    if isinstance(exc, RetryableError) and exc.throttled:
        return f"SmartRecruiters is limiting the company's requests, {failed}: {detail}.{again}"
    if isinstance(exc, RetryableError) and exc.status:
        return (
            f"SmartRecruiters at {_address(company)} had a server error, {failed}: {detail}.{again}"
        )
    if isinstance(exc, RetryableError):  # a timeout or a connection error
        return (
            f"SmartRecruiters could not be reached at {_address(company)}, {failed}: {detail}."
            f"{again}"
        )
    if isinstance(exc, RejectedError):
        return (
            f"SmartRecruiters refused the request, {failed}: {detail}. If it happens again, tell "
            "the User2Smart team."
        )
    return (
        f"SmartRecruiters at {_address(company)} gave an answer User2Smart cannot use, {failed}: "
        f"{detail}. If it happens again, tell the User2Smart team."
    )


def _address(company: Company) -> str:
    """The API URL as set, less any user, password, query or fragment."""
    parts = urlsplit(company.api_url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def check_connection(company: Company) -> ConnectionCheck:
    """Call `GET /users/me` with the company's credential and say who it acts as, or why not."""
    if not company.has_credential:
        return ConnectionCheck(False, "No SmartRecruiters credential is set for this company.")
    try:
        with company_api(company, doing="check the connection", timeout=(5, 20)) as client:
            me = client.me()
    except CompanyApiError as exc:
        return ConnectionCheck(False, exc.message)
    name = f"{me.get('firstName', '')} {me.get('lastName', '')}".strip() or me.get("email", "?")
    role = (me.get("systemRole") or {}).get("name") or (me.get("systemRole") or {}).get("id")
    suffix = f" ({role})" if role else ""
    return ConnectionCheck(True, f"Connected to SmartRecruiters as {name}{suffix}")
