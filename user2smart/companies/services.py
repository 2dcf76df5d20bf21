"""The write side of companies: create or update a company and its credential."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from user2smart.companies.models import Company


@dataclass(frozen=True)
class CompanySaved:
    company: Company
    created: bool
    changed: list[str]


@transaction.atomic
def company_save(
    *,
    slug: str,
    name: str,
    api_url: str,
    api_key: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    rps: int | None = None,
    concurrency: int | None = None,
) -> CompanySaved:
    """Create the company `slug`, or update it; the credential given replaces the stored one.

    Exactly one credential kind may be given: an API key, or an OAuth client id with its secret.
    """
    if api_key and (client_id or client_secret):
        raise ValidationError("Give either an API key or an OAuth client, not both.")
    if bool(client_id) != bool(client_secret):
        raise ValidationError("An OAuth client needs both its client id and its client secret.")

    company = Company.objects.select_for_update().filter(slug=slug).first()
    created = company is None
    if created:
        if not (api_key or client_id):
            raise ValidationError("A new company needs an API key or an OAuth client.")
        company = Company(slug=slug)

    changed: list[str] = []

    def assign(field: str, value: object, label: str | None = None) -> None:
        if getattr(company, field) != value:
            setattr(company, field, value)
            changed.append(label or field)

    assign("name", name)
    assign("api_url", api_url.rstrip("/"))
    if api_key:
        assign("credential_type", Company.Credential.API_KEY, "credential type")
        assign("api_key", api_key, "API key")
        assign("oauth_client_id", "", "OAuth client id")
        assign("oauth_client_secret", "", "OAuth client secret")
    elif client_id:
        assign("credential_type", Company.Credential.OAUTH_CLIENT, "credential type")
        assign("oauth_client_id", client_id, "OAuth client id")
        assign("oauth_client_secret", client_secret, "OAuth client secret")
        assign("api_key", "", "API key")
    if rps is not None:
        assign("rate_limit_rps", rps, "requests per second")
    if concurrency is not None:
        assign("rate_limit_concurrency", concurrency, "concurrent requests")

    company.full_clean()
    company.save()
    return CompanySaved(company=company, created=created, changed=changed)


def company_issue_access_key(*, company: Company) -> str:
    """A new access key for "Sign in with SmartRecruiters"; only its digest is stored.

    The key is returned once, to be handed to the company; the previous key stops working.
    """
    access_key = f"u2s-{secrets.token_urlsafe(24)}"
    company.access_key_digest = Company.digest_access_key(access_key)
    company.save(update_fields=["access_key_digest", "updated_at"])
    return access_key


def company_by_access_key(access_key: str) -> Company | None:
    if not access_key.strip():
        return None
    digest = Company.digest_access_key(access_key)
    return Company.objects.filter(access_key_digest=digest, enabled=True).first()
