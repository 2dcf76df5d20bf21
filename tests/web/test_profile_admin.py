"""Operators' import profiles in the admin: the JSON is checked as a whole before it is saved, a
profile downloads as the JSON `import_profile` loads, and one a schedule uses stays."""

from __future__ import annotations

import json

from django.urls import reverse

from imports.models import ImportProfile
from imports.services.profiles import profile_save
from scheduler.models import Schedule
from tests.imports.test_profiles import BAMBOOHR
from tests.scheduler.conftest import make_schedule

ADD = reverse("admin:imports_importprofile_add")
LIST = reverse("admin:imports_importprofile_changelist")


def test_a_profile_is_added_as_its_json(admin_client, company_a):
    response = admin_client.post(ADD, {"company": company_a.pk, "profile": json.dumps(BAMBOOHR)})

    assert response.status_code == 302, response.content.decode()[:2000]
    saved = ImportProfile.objects.get()
    assert (saved.company, saved.to_json()) == (company_a, BAMBOOHR)


def test_a_wrong_profile_is_refused_with_each_problem_named(admin_client, company_a):
    fields = {**BAMBOOHR["fields"], "emial": {"column": "Work Email"}}
    del fields["enabled"]

    response = admin_client.post(
        ADD, {"company": company_a.pk, "profile": json.dumps({**BAMBOOHR, "fields": fields})}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Unknown fields: &quot;emial&quot;" in page
    assert "Required fields are not mapped: enabled" in page
    assert not ImportProfile.objects.exists()


def test_a_second_profile_of_the_same_name_is_refused(admin_client, company_a):
    profile_save(company=company_a, data=BAMBOOHR)

    response = admin_client.post(
        ADD, {"company": company_a.pk, "profile": json.dumps({**BAMBOOHR, "name": "BambooHR"})}
    )

    assert "Alpha Ltd already has an import profile &quot;BambooHR&quot;" in (
        response.content.decode()
    )
    assert ImportProfile.objects.count() == 1


def test_the_selected_profile_downloads_as_json(admin_client, company_a):
    saved = profile_save(company=company_a, data=BAMBOOHR)

    response = admin_client.post(LIST, {"action": "download_json", "_selected_action": [saved.pk]})

    assert response["Content-Disposition"] == 'attachment; filename="bamboohr.json"'
    assert json.loads(response.content) == BAMBOOHR


def test_a_profile_a_schedule_uses_cannot_be_deleted(admin_client, company_a):
    saved = profile_save(company=company_a, data=BAMBOOHR)
    make_schedule(company_a, profile=saved)

    response = admin_client.post(
        reverse("admin:imports_importprofile_delete", args=[saved.pk]), {"post": "yes"}
    )

    assert "Cannot delete import profile" in response.content.decode()
    assert ImportProfile.objects.filter(pk=saved.pk).exists()
    assert Schedule.objects.get().profile == saved


def test_a_profile_stays_with_its_company(admin_client, company_a, company_b):
    # A schedule of Alpha reads its files with this profile: moving it to Beta would make
    # Alpha's imports read through another company's profile.
    saved = profile_save(company=company_a, data=BAMBOOHR)
    make_schedule(company_a, profile=saved)
    change = reverse("admin:imports_importprofile_change", args=[saved.pk])
    renamed = json.dumps({**BAMBOOHR, "name": "bamboohr-2"})

    response = admin_client.post(change, {"company": company_b.pk, "profile": renamed})

    assert response.status_code == 302, response.content.decode()[:2000]
    saved.refresh_from_db()
    assert (saved.company, saved.name) == (company_a, "bamboohr-2")
    assert Schedule.objects.get().profile.company == company_a


def test_a_profile_renamed_in_the_admin_to_a_name_its_company_has_is_refused(
    admin_client, company_a
):
    saved = profile_save(company=company_a, data=BAMBOOHR)
    profile_save(company=company_a, data={**BAMBOOHR, "name": "other"})
    change = reverse("admin:imports_importprofile_change", args=[saved.pk])

    response = admin_client.post(change, {"profile": json.dumps({**BAMBOOHR, "name": "Other"})})

    assert response.status_code == 200
    assert "Alpha Ltd already has an import profile &quot;Other&quot;" in response.content.decode()
    saved.refresh_from_db()
    assert saved.name == "bamboohr"


def test_a_json_nested_too_deep_is_refused_as_not_a_profile(admin_client, company_a):
    response = admin_client.post(ADD, {"company": company_a.pk, "profile": "[" * 100_000})

    assert response.status_code == 200
    assert "is nested too deep" in response.content.decode()
    assert not ImportProfile.objects.exists()
