from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from user2smart.companies.models import Company
from user2smart.companies.services import company_by_access_key

SECRET = "key-never-printed-1234"


def add_company(*args: str) -> str:
    out = StringIO()
    call_command("add_company", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_add_company_creates_then_updates_without_printing_the_secret():
    created = add_company(
        "acme",
        "--name",
        "Acme",
        "--api-url",
        "http://127.0.0.1:8001",
        "--api-key",
        SECRET,
        "--rps",
        "5",
    )
    updated = add_company(
        "acme",
        "--name",
        "Acme",
        "--api-url",
        "http://127.0.0.1:8001",
        "--client-id",
        "cid",
        "--client-secret",
        SECRET,
    )
    unchanged = add_company("acme", "--name", "Acme", "--api-url", "http://127.0.0.1:8001")

    assert created.startswith("Created company acme (Acme) with an API key, 5 requests/s")
    assert "Updated company acme: credential type, OAuth client id" in updated
    assert unchanged.strip() == "Company acme is already up to date."
    for output in (created, updated, unchanged):
        assert SECRET not in output
    company = Company.objects.get(slug="acme")
    assert (company.credential_type, company.api_key, company.oauth_client_secret) == (
        "oauth_client",
        "",
        SECRET,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api-key", "k", "--rps", "0"], "rate_limit_rps: Ensure this value is greater than"),
        (["--client-id", "cid"], "needs both its client id and its client secret"),
        (["--client-secret", "s"], "--client-secret needs --client-id"),
        ([], "A new company needs an API key or an OAuth client."),
    ],
)
def test_add_company_explains_what_is_wrong(args, message):
    with pytest.raises(CommandError, match=message):
        add_company("acme", "--name", "Acme", "--api-url", "http://127.0.0.1:8001", *args)
    assert not Company.objects.exists()


@pytest.mark.django_db
def test_an_issued_access_key_finds_its_company_once_printed():
    output = add_company(
        "acme",
        "--name",
        "Acme",
        "--api-url",
        "http://127.0.0.1:8001",
        "--api-key",
        "k",
        "--issue-access-key",
    )

    key = output.rsplit("(shown once): ", 1)[1].strip()
    assert company_by_access_key(key).slug == "acme"
    assert company_by_access_key("u2s-wrong") is None
