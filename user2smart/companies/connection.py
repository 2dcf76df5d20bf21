"""A company's way into SmartRecruiters: its client, behind its shared rate limiter."""

from __future__ import annotations

import threading
from dataclasses import dataclass

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
from user2smart.smartrecruiters.ratelimit import RateLimiter
from user2smart.smartrecruiters.transport import Timeout

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
    company: Company, *, retries: int = 0, timeout: Timeout | None = None
) -> SmartRecruitersClient:
    """A new client for the company (its own HTTP session): for one-off work."""
    return SmartRecruitersClient(
        credential_for(company),
        base_url=company.api_url,
        limiter=limiter_for(company),
        timeout=timeout or default_timeout(),
        retries=retries,
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


def shared_client_for(company: Company) -> SmartRecruitersClient:
    """The calling thread's client for the company, kept between tasks (keep-alive, cached
    OAuth token). A changed credential or limit gives a new client."""
    clients: dict = getattr(_local, "clients", None) or {}
    _local.clients = clients
    key = (
        company.pk,
        company.credential_id,
        company.api_url,
        company.rate_limit_rps,
        company.rate_limit_concurrency,
    )
    client = clients.get(company.pk)
    if client is None or client[0] != key:
        if client is not None:
            client[1].close()
        client = (key, client_for(company))
        clients[company.pk] = client
    return client[1]


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def check_connection(company: Company) -> ConnectionCheck:
    """Call `GET /users/me` with the company's credential and say who it acts as, or why not."""
    if not company.has_credential:
        return ConnectionCheck(False, "No SmartRecruiters credential is set for this company.")
    try:
        with client_for(company, timeout=(5, 20)) as client:
            me = client.me()
    except AuthRefusedError as exc:
        return ConnectionCheck(
            False,
            f"SmartRecruiters refused the credential (HTTP {exc.status}): check the API key or "
            "the OAuth client id and secret.",
        )
    except RetryableError as exc:
        return ConnectionCheck(
            False, f"SmartRecruiters could not be reached at {company.api_url}: {exc}"
        )
    except (RejectedError, SmartRecruitersError) as exc:
        return ConnectionCheck(False, f"SmartRecruiters answered with an error: {exc}")
    name = f"{me.get('firstName', '')} {me.get('lastName', '')}".strip() or me.get("email", "?")
    role = (me.get("systemRole") or {}).get("name") or (me.get("systemRole") or {}).get("id")
    suffix = f" ({role})" if role else ""
    return ConnectionCheck(True, f"Connected to SmartRecruiters as {name}{suffix}")
