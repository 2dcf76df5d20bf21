"""The words an admin reads when SmartRecruiters does not do what a company's call asked."""

from __future__ import annotations

import pytest

from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import ACME_API_KEY, ACME_ME_EMAIL
from tests.fixtures.services import free_port
from user2smart.companies.connection import CompanyApiError, api_error_message, company_api
from user2smart.companies.models import Company
from user2smart.smartrecruiters.errors import (
    AuthRefusedError,
    RejectedError,
    RetryableError,
    SmartRecruitersError,
    UnexpectedResponseError,
)
from user2smart.smartrecruiters.ratelimit import RateLimitWaitTimeout

API_KEY = "sr-api-key-that-must-stay-hidden"
CLIENT_SECRET = "oauth-secret-that-must-stay-hidden"
URL_PASSWORD = "url-password-that-must-stay-hidden"
URL_TOKEN = "url-token-that-must-stay-hidden"
SECRETS = (API_KEY, CLIENT_SECRET, URL_PASSWORD, URL_TOKEN)
READING = "read the company's users"

REFUSED = AuthRefusedError("GET /users failed: HTTP 401 UNAUTHORIZED: Invalid key", status=401)
UNREACHABLE = RetryableError("GET /users could not connect (ConnectionError)")
TIMED_OUT = RetryableError("GET /users timed out (ReadTimeout)")
SERVER_ERROR = RetryableError("GET /users failed: HTTP 503: Service Unavailable", status=503)
THROTTLED = RetryableError(
    "GET /users failed: HTTP 429 RATE_LIMIT_EXCEEDED: Too many requests.", status=429
)
LIMITER_FULL = RateLimitWaitTimeout(retry_after=2.0)
REJECTED = RejectedError(
    "GET /users failed: HTTP 400 INVALID_QUERY: The limit must be between 1 and 100.",
    status=400,
    code="INVALID_QUERY",
)
UNUSABLE = UnexpectedResponseError("GET /users returned a page without content")
EVERY_KIND = (
    REFUSED,
    UNREACHABLE,
    TIMED_OUT,
    SERVER_ERROR,
    THROTTLED,
    LIMITER_FULL,
    REJECTED,
    UNUSABLE,
    SmartRecruitersError("something new"),
)


def a_company(**fields) -> Company:
    """A company with every kind of secret, as the admin could have typed them."""
    return Company(
        name="Acme Demo",
        slug="acme",
        api_url=f"https://svc:{URL_PASSWORD}@api.example.test/v1/?token={URL_TOKEN}#top",
        api_key=API_KEY,
        oauth_client_id="client-1",
        oauth_client_secret=CLIENT_SECRET,
        **fields,
    )


def message(exc: SmartRecruitersError, **options) -> str:
    return api_error_message(exc, company=a_company(), doing=READING, **options)


# Each kind of error, in words -------------------------------------------------------------------


def test_a_refused_credential_names_the_company_and_status_and_who_can_fix_it() -> None:
    assert message(REFUSED) == (
        "SmartRecruiters refused the credential of Acme Demo (HTTP 401), so User2Smart could not "
        "read the company's users. Ask the User2Smart team to check the company's API key or "
        "OAuth client."
    )


def test_a_refused_credential_without_a_status_still_reads_well() -> None:
    refused = AuthRefusedError("POST /identity/oauth/token failed", status=None)

    assert message(refused).startswith(
        "SmartRecruiters refused the credential of Acme Demo, so User2Smart could not"
    )


def test_an_unreachable_server_gives_its_address_and_asks_to_try_again() -> None:
    assert message(UNREACHABLE) == (
        "SmartRecruiters could not be reached at https://api.example.test/v1, so User2Smart "
        "could not read the company's users: GET /users could not connect (ConnectionError). "
        "Please try again in a few minutes."
    )


def test_a_timeout_says_it_timed_out() -> None:
    text = message(TIMED_OUT)

    assert text.startswith("SmartRecruiters could not be reached at https://api.example.test/v1")
    assert "GET /users timed out (ReadTimeout)." in text
    assert text.endswith("Please try again in a few minutes.")


def test_a_server_error_gives_the_address_and_the_status() -> None:
    assert message(SERVER_ERROR) == (
        "SmartRecruiters at https://api.example.test/v1 had a server error, so User2Smart could "
        "not read the company's users: GET /users failed: HTTP 503: Service Unavailable. Please "
        "try again in a few minutes."
    )


def test_a_429_says_smartrecruiters_is_limiting_the_company() -> None:
    assert message(THROTTLED) == (
        "SmartRecruiters is limiting the company's requests, so User2Smart could not read the "
        "company's users: GET /users failed: HTTP 429 RATE_LIMIT_EXCEEDED: Too many requests. "
        "Please try again in a few minutes."
    )


def test_a_full_rate_limit_says_so_and_asks_to_try_again() -> None:
    assert message(LIMITER_FULL) == (
        "The company's SmartRecruiters rate limit is in full use, so User2Smart could not read "
        "the company's users. Please try again in a few minutes."
    )


def test_a_rejection_gives_smartrecruiters_own_words_and_no_retry_advice() -> None:
    text = message(REJECTED)

    assert text == (
        "SmartRecruiters refused the request, so User2Smart could not read the company's users: "
        "GET /users failed: HTTP 400 INVALID_QUERY: The limit must be between 1 and 100. If it "
        "happens again, tell the User2Smart team."
    )
    assert "try again" not in text


def test_an_unusable_answer_gives_the_address_and_what_was_wrong() -> None:
    assert message(UNUSABLE) == (
        "SmartRecruiters at https://api.example.test/v1 gave an answer User2Smart cannot use, so "
        "User2Smart could not read the company's users: GET /users returned a page without "
        "content. If it happens again, tell the User2Smart team."
    )


@pytest.mark.parametrize("exc", [UNREACHABLE, SERVER_ERROR, THROTTLED, LIMITER_FULL])
def test_a_caller_that_retries_by_itself_does_not_ask_the_reader_to(exc) -> None:
    text = message(exc, ask_to_retry=False)

    assert "try again" not in text
    assert text.endswith(".")


@pytest.mark.parametrize("exc", EVERY_KIND)
def test_no_message_holds_a_secret(exc) -> None:
    text = message(exc)

    assert "so User2Smart could not read the company's users" in text
    for secret in SECRETS:
        assert secret not in text
    assert "svc:" not in text


# company_api, against the emulator ------------------------------------------------------------


@pytest.fixture
def acme(emulator, db) -> Company:
    return connect_acme(emulator)


@pytest.mark.integration
def test_company_api_gives_a_working_client(acme) -> None:
    with company_api(acme, doing="check the connection") as client:
        me = client.me()

    assert me["email"] == ACME_ME_EMAIL


@pytest.mark.integration
def test_a_revoked_key_becomes_a_final_company_api_error(acme, emulator) -> None:
    emulator.revoke(api_key=ACME_API_KEY)

    with pytest.raises(CompanyApiError) as caught, company_api(acme, doing=READING) as client:
        client.me()

    assert caught.value.message.startswith(
        "SmartRecruiters refused the credential of Acme Demo (HTTP 401), so User2Smart could not "
        "read the company's users."
    )
    assert not caught.value.retryable
    assert ACME_API_KEY not in caught.value.message


@pytest.mark.integration
def test_server_errors_become_a_retryable_company_api_error(acme, emulator) -> None:
    emulator.faults(error_rate=1.0)

    with pytest.raises(CompanyApiError) as caught, company_api(acme, doing=READING) as client:
        client.me()

    assert caught.value.message.startswith(
        f"SmartRecruiters at {emulator.url} had a server error, so User2Smart could not read"
    )
    assert caught.value.retryable


@pytest.mark.integration
def test_a_429_becomes_a_retryable_company_api_error(acme, emulator) -> None:
    emulator.faults(throttle_rate=1.0)

    with pytest.raises(CompanyApiError) as caught, company_api(acme, doing=READING) as client:
        client.me()

    assert caught.value.message.startswith("SmartRecruiters is limiting the company's requests")
    assert "HTTP 429" in caught.value.message
    assert caught.value.retryable


@pytest.mark.integration
def test_a_rejected_call_gives_smartrecruiters_own_words(acme) -> None:
    with (
        pytest.raises(CompanyApiError) as caught,
        company_api(acme, doing="read a user") as client,
    ):
        client.get_user("no-such-user")

    assert caught.value.message.startswith(
        "SmartRecruiters refused the request, so User2Smart could not read a user: GET /users/"
    )
    assert "failed: HTTP 404" in caught.value.message
    assert not caught.value.retryable


def test_an_unreachable_server_becomes_a_retryable_company_api_error(db) -> None:
    company = Company(name="Offline", slug="offline", api_url=f"http://127.0.0.1:{free_port()}")
    company.api_key = API_KEY
    company.save()

    with pytest.raises(CompanyApiError) as caught, company_api(company, doing=READING) as client:
        client.me()

    assert caught.value.message.startswith(
        f"SmartRecruiters could not be reached at {company.api_url}, so User2Smart could not"
    )
    assert caught.value.retryable
    assert API_KEY not in caught.value.message


def test_other_errors_in_the_block_pass_through() -> None:
    company = a_company()

    with pytest.raises(KeyError), company_api(company, doing=READING):
        raise KeyError("not about SmartRecruiters")
