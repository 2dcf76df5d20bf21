import pytest

from user2smart.companies.models import Company

API_KEY = "sr-api-key-that-must-stay-hidden"
CLIENT_SECRET = "oauth-secret-that-must-stay-hidden"


@pytest.fixture
def company(db):
    return Company.objects.create(
        name="Acme", slug="acme", api_url="https://api.example.test", api_key=API_KEY
    )


def form_data(company: Company, **overrides) -> dict:
    data = {
        "name": company.name,
        "slug": company.slug,
        "enabled": "on",
        "api_url": company.api_url,
        "credential_type": company.credential_type,
        "new_api_key": "",
        "oauth_client_id": company.oauth_client_id,
        "new_oauth_client_secret": "",
        "rate_limit_rps": company.rate_limit_rps,
        "rate_limit_concurrency": company.rate_limit_concurrency,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_the_company_page_never_contains_its_secret(admin_client, company):
    company.credential_type = Company.Credential.OAUTH_CLIENT
    company.oauth_client_id = "client-1"
    company.oauth_client_secret = CLIENT_SECRET
    company.save()

    change_page = admin_client.get(f"/admin/companies/company/{company.pk}/change/")
    list_page = admin_client.get("/admin/companies/company/")

    for page in (change_page.content.decode(), list_page.content.decode()):
        assert CLIENT_SECRET not in page
        assert API_KEY not in page
    assert "client-1" in change_page.content.decode()


def test_saving_with_blank_secret_inputs_keeps_the_stored_key(admin_client, company):
    response = admin_client.post(
        f"/admin/companies/company/{company.pk}/change/", form_data(company, name="Acme Inc")
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Acme Inc"
    assert company.api_key == API_KEY


def test_a_new_key_typed_in_the_admin_replaces_the_stored_one(admin_client, company):
    admin_client.post(
        f"/admin/companies/company/{company.pk}/change/",
        form_data(company, new_api_key="replacement-key"),
    )

    company.refresh_from_db()
    assert company.api_key == "replacement-key"


def test_switching_to_oauth_without_a_secret_is_refused(admin_client, company):
    response = admin_client.post(
        f"/admin/companies/company/{company.pk}/change/",
        form_data(company, credential_type="oauth_client", oauth_client_id="c1"),
    )

    assert response.status_code == 200
    assert "Enter the OAuth client secret." in response.content.decode()
    company.refresh_from_db()
    assert company.credential_type == "api_key"


def test_issuing_an_access_key_shows_it_once_and_stores_only_its_digest(admin_client, company):
    response = admin_client.post(
        "/admin/companies/company/",
        {"action": "issue_access_key", "_selected_action": [company.pk]},
        follow=True,
    )

    page = response.content.decode()
    key = page.split("hand it to the company): ")[1].split("<")[0].strip()
    company.refresh_from_db()
    assert company.access_key_digest == Company.digest_access_key(key)
    assert (
        key
        not in admin_client.get(f"/admin/companies/company/{company.pk}/change/").content.decode()
    )


@pytest.mark.integration
def test_test_connection_says_who_the_credential_acts_as(admin_client, emulator, db):
    from tests.fixtures.emulator import ACME_API_KEY

    good = Company.objects.create(
        name="Acme", slug="acme", api_url=emulator.url, api_key=ACME_API_KEY
    )
    bad = Company.objects.create(
        name="Wrong", slug="wrong", api_url=emulator.url, api_key="not-a-key-of-anyone"
    )

    ok = admin_client.post(f"/admin/companies/company/{good.pk}/test-connection/", follow=True)
    refused = admin_client.post(f"/admin/companies/company/{bad.pk}/test-connection/", follow=True)

    assert "Connected to SmartRecruiters as Erin Admin (Administrator)" in ok.content.decode()
    refused_page = refused.content.decode()
    assert "SmartRecruiters refused the credential of Wrong (HTTP 401)" in refused_page
    assert "Ask the User2Smart team to check the company&#x27;s API key" in refused_page
    assert "not-a-key-of-anyone" not in refused_page


def test_test_connection_explains_an_unreachable_server(admin_client, company):
    from tests.fixtures.services import free_port

    company.api_url = f"http://127.0.0.1:{free_port()}"
    company.save()

    page = admin_client.post(
        "/admin/companies/company/",
        {"action": "test_connection", "_selected_action": [company.pk]},
        follow=True,
    ).content.decode()

    assert "SmartRecruiters could not be reached at http://127.0.0.1:" in page
    assert "Please try again in a few minutes." in page
    assert API_KEY not in page


def test_people_are_found_by_name_and_shown_with_their_email_when_adding_a_member(
    admin_client, company, django_user_model
) -> None:
    django_user_model.objects.create_user(
        username="sr-64b7c0ffee0123456789abcd",
        first_name="Helena",
        last_name="Admin",
        email="helena.admin@acme.example",
    )

    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "companies",
            "model_name": "membership",
            "field_name": "user",
            "term": "Helena",
        },
    )

    assert response.status_code == 200
    texts = [result["text"] for result in response.json()["results"]]
    assert texts == ["Helena Admin <helena.admin@acme.example>"]
