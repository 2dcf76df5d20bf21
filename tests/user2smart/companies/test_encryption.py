import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from user2smart.companies.encryption import SecretUnreadable
from user2smart.companies.models import Company

SECRET = "sr-key-0123456789abcdef"


def raw_row(company: Company) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, oauth_client_secret FROM companies_company WHERE id = %s",
            [company.pk],
        )
        return cursor.fetchone()


def make_company(**fields) -> Company:
    return Company.objects.create(name="Acme", slug="acme", api_url="http://127.0.0.1:9", **fields)


@pytest.mark.django_db
def test_a_secret_round_trips_and_the_database_never_holds_it_in_clear():
    company = make_company(api_key=SECRET)

    stored_key, stored_secret = raw_row(company)
    assert SECRET not in stored_key
    assert stored_key.startswith("gAAAA")  # a Fernet token
    assert stored_secret == ""
    assert Company.objects.get(pk=company.pk).api_key == SECRET


@pytest.mark.django_db
def test_rotating_keys_keeps_old_values_readable_and_rewrites_them(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    company = make_company(
        credential_type="oauth_client", oauth_client_id="c1", oauth_client_secret=SECRET
    )
    new_key = Fernet.generate_key()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert Company.objects.get(pk=company.pk).oauth_client_secret == SECRET
        call_command("rotate_encryption_keys", verbosity=0)

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert Company.objects.get(pk=company.pk).oauth_client_secret == SECRET

    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[old_key]),
        pytest.raises(SecretUnreadable) as raised,
    ):
        Company.objects.get(pk=company.pk)
    assert SECRET not in str(raised.value)
