"""Scheduled imports read the HR system's export through the schedule's import profile.

Fires run against the real OpenSSH sshd and the emulator; the end-to-end test runs the import in
real worker processes, from `run_schedule` to the log uploaded to the server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imports import tasks as import_tasks
from imports.models import ImportProfile, ImportRun
from imports.services.profiles import profile_save
from scheduler.forms import ScheduleForm
from scheduler.models import ScheduleFire
from tests.imports.runs.conftest import run_command
from tests.imports.runs.test_profiles import assert_failed_rows_keep_the_export_s_columns
from tests.imports.test_profiles import BAMBOOHR
from tests.imports.test_profiles import hr_export as bamboohr_export
from tests.scheduler.conftest import ScheduleMaker, beat_fire
from tests.scheduler.test_admin import form_data
from user2smart.companies.models import Company

Outcome = ScheduleFire.Outcome


@pytest.fixture
def bamboohr(acme: Company) -> ImportProfile:
    return profile_save(company=acme, data=BAMBOOHR)


@pytest.fixture
def hr_export(sftp_folder: Path) -> Path:
    """users.csv on the server is BambooHR's export: an update, a new hire, a missing email."""
    path = sftp_folder / "users.csv"
    path.write_bytes(bamboohr_export())
    return path


def test_a_schedule_s_profile_reaches_its_run(
    sftp_schedule: ScheduleMaker, bamboohr: ImportProfile, hr_export: Path
) -> None:
    fire = beat_fire(sftp_schedule(profile=bamboohr))

    assert fire.outcome == Outcome.STARTED, fire.reason
    import_tasks.plan_run(fire.run_id)
    run = ImportRun.objects.get(pk=fire.run_id)
    assert (run.profile_name, run.count_update, run.count_create, run.count_error) == (
        "bamboohr",
        1,
        1,
        1,
    )
    (error,) = run.rows.get(line=4).errors
    assert (error["column"], error["message"]) == (
        "Work Email",
        "Work Email is empty (mapped to email).",
    )


def test_a_file_without_the_profile_s_columns_fails_before_any_row(
    sftp_schedule: ScheduleMaker, bamboohr: ImportProfile, sftp_folder: Path
) -> None:
    # users.csv is still the 19-column sample: no "Work Email", no "Employee #"...
    fire = beat_fire(sftp_schedule(profile=bamboohr))

    import_tasks.plan_run(fire.run_id)

    run = ImportRun.objects.get(pk=fire.run_id)
    assert run.status == ImportRun.Status.FAILED
    assert '"Work Email" (mapped to email)' in run.error
    assert not run.rows.exists()


def test_the_schedule_form_offers_only_its_company_s_profiles(
    acme: Company, bamboohr: ImportProfile
) -> None:
    other = Company.objects.create(name="Globex", slug="globex")
    foreign = profile_save(company=other, data={**BAMBOOHR, "name": "globex-hr"})

    form = ScheduleForm(data=form_data(company=acme.pk, profile=foreign.pk))

    assert not form.is_valid()
    assert "profile" in form.errors
    assert list(form.fields["profile"].queryset) == [bamboohr]


@pytest.mark.integration
def test_a_scheduled_sftp_import_through_a_profile_end_to_end(
    acme: Company,
    emulator,
    sftp_schedule: ScheduleMaker,
    bamboohr: ImportProfile,
    hr_export: Path,
    celery_worker,
) -> None:
    sftp_schedule(profile=bamboohr, timezone="UTC")

    code, out, err = run_command("run_schedule", "nightly", "--company", "acme", "--json")

    assert out.strip(), err
    document = json.loads(out)
    assert code == 1, (document, celery_worker.output())
    assert (document["result"], document["counts"]["error"]) == ("X", 1)
    assert emulator.user("alice.martin@acme.example")["lastName"] == "Martin-Durand"
    nadia = emulator.user("nadia.haddad@acme.example")
    assert (nadia["externalData"], nadia["systemRole"]["id"], nadia["active"]) == (
        "E2001",
        "STANDARD",
        True,
    )
    assert [group["id"] for group in nadia["accessGroups"]] == ["60497fe33e2b74a609b7e412"]
    assert (nadia["location"]["countryCode"], nadia["location"]["city"]) == ("DE", "Berlin")
    today = datetime.now(UTC).strftime("%Y%m%d")
    log = Path(f"{hr_export.parent}/logs/users-{today}.csv")
    assert document["log_file"] == str(log)
    assert "Work Email is empty (mapped to email)." in log.read_text(encoding="utf-8-sig")
    assert_failed_rows_keep_the_export_s_columns(ImportRun.objects.get(pk=document["run"]))
