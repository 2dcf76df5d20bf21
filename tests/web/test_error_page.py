"""A server error never shows a traceback to a company admin, in debug (the demo) or not: the
friendly page, and the error in the log."""

from __future__ import annotations

import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from imports import services
from tests.web.conftest import make_member
from tests.web.test_upload import upload

LOCKED = "database is locked"


def locked_upload(browser: Client):
    """An upload whose storing fails as SQLite did under a concurrent writer."""
    with mock.patch.object(
        services, "run_start", autospec=True, side_effect=OperationalError(LOCKED)
    ):
        return upload(browser, b"email\nx@acme.example\n")


@pytest.mark.parametrize("debug", [True, False])
def test_a_company_admin_gets_the_friendly_page_and_the_error_is_logged(
    member_a, settings, caplog, debug
):
    settings.DEBUG = debug
    browser = Client(raise_request_exception=False)
    browser.force_login(member_a)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = locked_upload(browser)

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "please try again" in page
    assert "Traceback" not in page
    assert LOCKED not in page
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert [record.exc_info[1] for record in logged if record.exc_info] != []
    assert str(logged[0].exc_info[1]) == LOCKED


def test_in_debug_a_superuser_still_gets_django_s_technical_page(
    django_user_model, company_a, settings
):
    settings.DEBUG = True
    operator = make_member(django_user_model, "operator", company_a)
    operator.is_superuser = operator.is_staff = True
    operator.save()
    browser = Client(raise_request_exception=False)
    browser.force_login(operator)

    response = locked_upload(browser)

    assert response.status_code == 500
    assert "Traceback" in response.content.decode()
