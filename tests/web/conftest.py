"""Fixtures for the company admins' pages: companies, their members, signed-in browsers."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.test import Client

from imports.models import ImportRun
from tests.fixtures.companies import connect_acme
from tests.fixtures.services import free_port
from user2smart.companies.models import Company, Membership
from user2smart.companies.services import company_save

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Each test its own cache: the header's "Connected to SmartRecruiters" status is cached,
    and a status cached by another test (or another test session) must not show here."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def offline_url() -> str:
    """An address where nothing listens: SmartRecruiters cannot be reached, at once."""
    return f"http://127.0.0.1:{free_port()}"


def make_company(slug: str, name: str, api_url: str | None = None, api_key: str = "k") -> Company:
    return company_save(
        slug=slug, name=name, api_url=api_url or offline_url(), api_key=api_key
    ).company


def make_member(django_user_model, username: str, *companies: Company):
    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, first_name=username.title()
    )
    for company in companies:
        Membership.objects.create(user=user, company=company)
    return user


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def company_a(db) -> Company:
    return make_company("alpha", "Alpha Ltd")


@pytest.fixture
def company_b(db) -> Company:
    return make_company("beta", "Beta Inc")


@pytest.fixture
def member_a(django_user_model, company_a):
    return make_member(django_user_model, "anna", company_a)


@pytest.fixture
def member_b(django_user_model, company_b):
    return make_member(django_user_model, "ben", company_b)


@pytest.fixture
def browser_a(member_a) -> Client:
    return signed_in(member_a)


@pytest.fixture
def browser_b(member_b) -> Client:
    return signed_in(member_b)


@pytest.fixture
def acme(emulator, transactional_db) -> Company:
    """The Acme company of the samples, connected to the emulator with its API key."""
    return connect_acme(emulator)


@pytest.fixture
def acme_admin(django_user_model, acme):
    return make_member(django_user_model, "hr.admin", acme)


@pytest.fixture
def acme_browser(acme_admin) -> Client:
    return signed_in(acme_admin)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll until `check()` is true (a background worker is doing the work)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.1)


def wait_for_run(run_id: int, *statuses: str, timeout: float = 60) -> ImportRun:
    def reached() -> bool:
        return ImportRun.objects.filter(pk=run_id, status__in=statuses).exists()

    wait_for(reached, f"run {run_id} to be {' or '.join(statuses)}", timeout)
    return ImportRun.objects.get(pk=run_id)
