"""The import profile pages: list, presets, a sample's headers and the live preview, saving (with
every problem named), the upload's Profile choice, and each company seeing only its own."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportProfile, ImportRun
from imports.services.profiles import profile_save
from tests.imports.test_profiles import BAMBOOHR, employee, export
from tests.web.test_upload import upload


def editor_post(**fields: str) -> dict[str, str]:
    """What the page posts for the documented BambooHR profile, with ``fields`` changed."""
    data = {
        "name": "bamboohr",
        "match": "email",
        "email-source": "Work Email",
        "firstName-source": "Preferred Name",
        "firstName-fallback": "First Name",
        "lastName-source": "Last Name",
        "externalData-source": "Employee #",
        "systemRoleId-source": "Job Title",
        "systemRoleId-default": "EMPLOYEE",
        "languageCode-source": "=value",
        "languageCode-value": "en",
        "active-source": "Status",
        "active-map-from": "Active",
        "active-map-to": "true",
        "enabled-source": "=value",
        "enabled-value": "true",
        "countryCode-source": "Country",
        "countryCode-transform": "country",
        "city-source": "City",
    }
    data.update(fields)
    return data


def sample_text() -> str:
    return export(
        employee(),
        employee(**{"Work Email": "", "Employee #": "E2002"}),
        employee(**{"Employee #": "E2003", "Work Email": "x@acme.example", "Status": "On leave"}),
    ).decode()


def test_the_page_lists_only_the_company_s_profiles_and_the_presets(
    browser_a, company_a, company_b
):
    profile_save(company=company_a, data=BAMBOOHR)
    profile_save(company=company_b, data={**BAMBOOHR, "name": "beta-hr"})

    page = browser_a.get(reverse("imports:profiles")).content.decode()

    assert "bamboohr" in page
    assert "beta-hr" not in page
    for name in ("bamboohr", "hibob", "personio", "successfactors", "workday"):
        assert f"?preset={name}" in page


def test_a_preset_fills_the_new_profile_page(browser_a):
    page = browser_a.get(reverse("imports:profile_new") + "?preset=workday").content.decode()

    assert 'value="workday"' in page
    assert '<option value="Primary Work Email" selected>' in page
    assert 'value="externalData" selected' in page


def test_a_sample_file_fills_the_columns_with_guesses_and_previews_its_rows(browser_a):
    data = {
        "name": "",
        "sample_file": SimpleUploadedFile("export.csv", export(employee()), "text/csv"),
    }

    response = browser_a.post(reverse("imports:profile_sample"), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert '<option value="Work Email" selected>Work Email</option>' in page
    assert '<option value="Employee #" selected>Employee #</option>' in page
    assert "1 row, 0 with errors" in page


@pytest.mark.parametrize(
    ("header", "mapped"),
    [("Initial Password", ""), ("Passwort", ""), ("Secret", "Secret")],
)
def test_a_sample_s_passwords_never_reach_the_page(browser_a, header, mapped):
    sample = f"Work Email,First Name,Last Name,{header}\nx@acme.example,Ann,Lee,Sekret-123\n"
    post = editor_post(**({"password-source": mapped} if mapped else {}))
    upload = SimpleUploadedFile("export.csv", sample.encode(), "text/csv")

    response = browser_a.post(reverse("imports:profile_sample"), {**post, "sample_file": upload})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sekret-123" not in page
    assert f'<option value="{header}"' in page  # the column is still offered


def test_the_preview_shows_mapped_values_and_errors_by_the_file_s_column(browser_a):
    response = browser_a.post(reverse("imports:profile_preview"), editor_post(sample=sample_text()))

    page = response.content.decode()
    assert "3 rows, 2 with errors" in page
    assert "<td>FR</td>" in page  # France, through the country transform
    assert 'data-column="Work Email">Work Email is empty (mapped to email).' in page
    assert 'data-column="Status">Status (mapped to active): &quot;On leave&quot;' in page


def test_the_preview_names_what_is_wrong_with_the_profile(browser_a):
    response = browser_a.post(
        reverse("imports:profile_preview"),
        editor_post(sample=sample_text(), **{"lastName-source": "", "city-source": "Town"}),
    )

    page = response.content.decode()
    assert "Required fields are not mapped: lastName" in page


def test_saving_stores_the_profile_then_uploads_can_use_it(browser_a, company_a):
    response = browser_a.post(
        reverse("imports:profile_new"),
        editor_post(sample=sample_text()),
    )

    saved = ImportProfile.objects.get(company=company_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:profile", args=[saved.pk])
    assert saved.spec["fields"]["active"] == {"column": "Status", "map": {"Active": "true"}}
    assert saved.spec["fields"]["firstName"] == {"column": ["Preferred Name", "First Name"]}
    assert '<option value="' + str(saved.pk) + '">bamboohr</option>' in (
        browser_a.get(reverse("imports:new")).content.decode()
    )
    upload(browser_a, export(employee()), profile=str(saved.pk))
    run = ImportRun.objects.get()
    assert run.profile == {"name": "bamboohr", **saved.spec}


def test_a_new_profile_never_replaces_a_saved_one_of_the_same_name(browser_a, company_a):
    saved = profile_save(company=company_a, data={**BAMBOOHR, "name": "BambooHR"})

    response = browser_a.post(reverse("imports:profile_new"), editor_post())

    assert response.status_code == 400
    assert "Alpha Ltd already has an import profile &quot;bamboohr&quot;" in (
        response.content.decode()
    )
    (kept,) = ImportProfile.objects.filter(company=company_a)
    assert (kept.pk, kept.name, kept.spec) == (saved.pk, "BambooHR", saved.spec)


def test_a_profile_that_cannot_read_the_sample_is_not_saved(browser_a):
    response = browser_a.post(
        reverse("imports:profile_new"), editor_post(sample=sample_text(), **{"city-source": "Town"})
    )

    assert response.status_code == 400
    assert "&quot;Town&quot; (mapped to city)" in response.content.decode()
    assert not ImportProfile.objects.exists()


def test_another_company_s_profile_is_a_404_and_cannot_be_uploaded_with(browser_a, company_b):
    foreign = profile_save(company=company_b, data=BAMBOOHR)

    assert browser_a.get(reverse("imports:profile", args=[foreign.pk])).status_code == 404
    assert browser_a.get(reverse("imports:profile_download", args=[foreign.pk])).status_code == 404
    response = upload(browser_a, export(employee()), profile=str(foreign.pk))
    assert response.status_code == 200
    assert not ImportRun.objects.exists()


def test_a_profile_downloads_as_the_json_import_profile_loads(browser_a, company_a):
    saved = profile_save(company=company_a, data=BAMBOOHR)

    response = browser_a.get(reverse("imports:profile_download", args=[saved.pk]))

    assert json.loads(response.content) == {**BAMBOOHR, "fields": BAMBOOHR["fields"]}
