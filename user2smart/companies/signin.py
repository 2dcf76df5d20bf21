""" "Sign in with SmartRecruiters": the company's access key, SmartRecruiters' OAuth page, back.

Only an active SmartRecruiters ADMINISTRATOR of the company whose access key was given gets in,
as a member of that company.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from user2smart.companies.connection import client_for
from user2smart.companies.models import Company, Membership
from user2smart.smartrecruiters.auth import BearerToken, authorization_url, exchange_code
from user2smart.smartrecruiters.client import SmartRecruitersClient
from user2smart.smartrecruiters.errors import RejectedError, SmartRecruitersError

log = logging.getLogger(__name__)

ADMIN_ROLE = "ADMINISTRATOR"
SIGNIN_TIMEOUT = (5, 20)


class SignInRefused(Exception):
    """The person may not sign in; the message says why, for them."""


def signin_enabled() -> bool:
    return bool(settings.SMARTRECRUITERS_SIGNIN_CLIENT_ID)


def signin_redirect(*, redirect_uri: str, state: str) -> str:
    return authorization_url(
        settings.SMARTRECRUITERS_SIGNIN_CLIENT_ID,
        redirect_uri,
        state,
        base_url=settings.SMARTRECRUITERS_SIGNIN_URL,
    )


@dataclass(frozen=True)
class SmartRecruitersPerson:
    id: str
    email: str
    first_name: str
    last_name: str


def signin_person(*, company: Company, code: str, redirect_uri: str) -> SmartRecruitersPerson:
    """Trade the code for a token, and check the person is an active administrator of `company`."""
    try:
        token = exchange_code(
            code,
            client_id=settings.SMARTRECRUITERS_SIGNIN_CLIENT_ID,
            client_secret=settings.SMARTRECRUITERS_SIGNIN_CLIENT_SECRET,
            redirect_uri=redirect_uri,
            api_url=company.api_url,
            timeout=SIGNIN_TIMEOUT,
        )
        with SmartRecruitersClient(
            BearerToken(token.access_token), base_url=company.api_url, timeout=SIGNIN_TIMEOUT
        ) as client:
            me = client.me()
    except SmartRecruitersError as exc:
        log.info("sign-in with SmartRecruiters failed for %s: %s", company.slug, exc)
        raise SignInRefused(
            "SmartRecruiters did not confirm your sign-in. Please try again."
        ) from None

    person = SmartRecruitersPerson(
        id=str(me.get("id") or ""),
        email=str(me.get("email") or ""),
        first_name=str(me.get("firstName") or ""),
        last_name=str(me.get("lastName") or ""),
    )
    if not me.get("active"):
        raise SignInRefused("Your SmartRecruiters account is not active.")
    if (me.get("systemRole") or {}).get("id") != ADMIN_ROLE:
        raise SignInRefused(
            "Only SmartRecruiters administrators can use User2Smart. Ask an administrator of "
            "your company for access."
        )
    # The access key names a company: the person must be one of its users.
    try:
        with client_for(company, timeout=SIGNIN_TIMEOUT) as company_client:
            company_client.get_user(person.id)
    except RejectedError:
        raise SignInRefused(
            f"Your SmartRecruiters account does not belong to {company.name}."
        ) from None
    except SmartRecruitersError as exc:
        log.info("sign-in with SmartRecruiters: company check failed for %s: %s", company.slug, exc)
        raise SignInRefused(
            "SmartRecruiters could not confirm your company right now. Please try again."
        ) from None
    return person


@transaction.atomic
def signin_member(*, company: Company, person: SmartRecruitersPerson):
    """The Django user of a SmartRecruiters person, made a member of the company."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=f"sr-{person.id}"[:150],
        defaults={
            "email": person.email,
            "first_name": person.first_name[:150],
            "last_name": person.last_name[:150],
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    else:
        user.email, user.first_name, user.last_name = (
            person.email,
            person.first_name[:150],
            person.last_name[:150],
        )
        user.save(update_fields=["email", "first_name", "last_name"])
    Membership.objects.get_or_create(user=user, company=company)
    return user
