"""Import profiles on the command line: `import_profile` saves them, `import_users --profile`
reads an HR export through one, errors name the file's own columns, with real workers."""

from __future__ import annotations

import csv
import io
import json

import pytest

from imports.models import ImportProfile, ImportRun
from tests.imports.runs.conftest import import_json, run_command
from tests.imports.test_presets import DOCS_SAMPLES
from tests.imports.test_profiles import BAMBOOHR, employee, export

pytestmark = pytest.mark.integration


def assert_failed_rows_keep_the_export_s_columns(run: ImportRun) -> None:
    """The failed-rows file of a run of ``hr_export``: the export's own header, then Tomasz."""
    failed = list(csv.reader(io.StringIO(run.failed_rows_csv.lstrip("\ufeff"))))
    assert failed[0][:5] == [
        "Employee #",
        "First Name",
        "Preferred Name",
        "Last Name",
        "Work Email",
    ]
    assert failed[1][:5] == ["E2002", "Tomasz", "", "Martin", ""]
    assert len(failed) == 2


@pytest.fixture
def bamboohr(acme, tmp_path):
    path = tmp_path / "bamboohr.json"
    path.write_text(json.dumps(BAMBOOHR))
    code, out, err = run_command("import_profile", str(path), "--company", "acme")
    assert code == 0, err
    assert out.strip() == 'Created the import profile "bamboohr" of Acme Demo.'
    return path


def test_import_profile_replaces_a_profile_of_the_same_name(bamboohr, acme):
    spec = json.loads(bamboohr.read_text())
    spec["name"] = "BambooHR"
    spec["fields"]["languageCode"] = {"value": "fr"}
    bamboohr.write_text(json.dumps(spec))

    code, out, _ = run_command("import_profile", str(bamboohr), "--company", "acme")

    assert code == 0
    assert out.strip() == 'Replaced the import profile "BambooHR" of Acme Demo.'
    (saved,) = ImportProfile.objects.filter(company=acme)
    assert saved.name == "BambooHR"
    assert saved.spec["fields"]["languageCode"] == {"value": "fr"}


def test_import_profile_refuses_a_wrong_profile_naming_what_is_wrong(acme, tmp_path):
    path = tmp_path / "wrong.json"
    fields = {**BAMBOOHR["fields"], "emial": {"column": "Work Email"}}
    del fields["lastName"]
    path.write_text(json.dumps({**BAMBOOHR, "fields": fields}))

    code, _, err = run_command("import_profile", str(path), "--company", "acme")

    assert code == 1
    assert 'Unknown fields: "emial"' in err
    assert "Required fields are not mapped: lastName" in err
    assert "Traceback" not in err
    assert not ImportProfile.objects.exists()


def test_import_profile_refuses_a_profile_that_cannot_read_the_sample(acme, tmp_path):
    path = tmp_path / "bamboohr.json"
    path.write_text(json.dumps(BAMBOOHR))
    sample = tmp_path / "export.csv"
    sample.write_bytes(export(employee(), header=["Employee #", "First Name", "Last Name"]))

    code, _, err = run_command(
        "import_profile", str(path), "--company", "acme", "--sample", str(sample)
    )

    assert code == 1
    assert '"Work Email" (mapped to email)' in err
    assert not ImportProfile.objects.exists()


def test_an_exported_profile_loads_back_the_same(bamboohr, acme, tmp_path):
    code, out, _ = run_command("import_profile", "--company", "acme", "--export", "BAMBOOHR")

    assert code == 0
    exported = json.loads(out)
    assert exported["fields"] == BAMBOOHR["fields"]
    assert exported["name"] == "bamboohr"


def test_a_json_nested_too_deep_is_refused_in_one_line(acme, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)

    code, _, err = run_command("import_profile", str(path), "--company", "acme")

    assert code == 1
    assert f"{path} is not a profile: its JSON is nested too deep." in err
    assert "Traceback" not in err


def test_an_export_to_a_file_that_cannot_be_written_says_so_in_one_line(bamboohr, tmp_path):
    output = tmp_path / "no-such-folder" / "bamboohr.json"

    code, _, err = run_command(
        "import_profile", "--company", "acme", "--export", "bamboohr", "--output", str(output)
    )

    assert code == 1
    assert f"Cannot write {output}: No such file or directory." in err
    assert "Traceback" not in err


def test_a_dry_run_through_a_profile_names_the_file_s_columns(bamboohr, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(
        export(
            employee(**{"Last Name": "Martin-Durand"}),
            employee(**{"Employee #": "E2001", "Work Email": "", "First Name": "Nadia"}),
        )
    )

    code, document = import_json(
        str(path), "--company", "acme", "--profile", "bamboohr", "--dry-run"
    )

    assert code == 1, document
    update, failed = document["rows"]
    assert update["action"] == "update"
    assert update["changes"]["lastName"] == ["Martin", "Martin-Durand"]
    assert failed["action"] == "error"
    (error,) = failed["errors"]
    assert (error["column"], error["message"]) == (
        "Work Email",
        "Work Email is empty (mapped to email).",
    )
    run = ImportRun.objects.get(pk=document["run"])
    assert run.profile_name == "bamboohr"
    assert run.columns[:5] == [
        "Employee #",
        "First Name",
        "Preferred Name",
        "Last Name",
        "Work Email",
    ]


def test_an_unknown_profile_is_refused_before_anything_is_stored(acme, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(employee()))

    code, _, err = run_command(
        "import_users", str(path), "--company", "acme", "--profile", "workday", "--dry-run"
    )

    assert code == 2
    assert 'Acme Demo has no import profile "workday". It has none yet.' in err
    assert not ImportRun.objects.exists()


def test_a_file_the_profile_cannot_read_fails_before_any_row(bamboohr, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export(employee(), header=["Employee #", "First Name", "Last Name"]))

    code, document = import_json(
        str(path), "--company", "acme", "--profile", "bamboohr", "--dry-run"
    )

    assert code == 2
    assert '"Work Email" (mapped to email)' in document["error"]
    assert ImportRun.objects.get(pk=document["run"]).rows.count() == 0


def test_an_applied_run_keeps_the_failed_rows_in_the_file_s_own_columns(
    bamboohr, emulator, celery_worker, tmp_path
):
    path = tmp_path / "export.csv"
    path.write_bytes(
        export(
            employee(
                **{
                    "Employee #": "E2001",
                    "Work Email": "nadia@acme.example",
                    "First Name": "Nadia",
                    "Last Name": "Haddad",
                }
            ),
            employee(**{"Employee #": "E2002", "Work Email": "", "First Name": "Tomasz"}),
        )
    )

    code, document = import_json(str(path), "--company", "acme", "--profile", "bamboohr")

    assert code == 1, (document, celery_worker.output())
    created = emulator.user("nadia@acme.example")
    location = created["location"]
    assert (created["externalData"], created["systemRole"]["id"]) == ("E2001", "STANDARD")
    assert (location["countryCode"], location["city"]) == ("FR", "Paris")
    assert [group["id"] for group in created["accessGroups"]] == ["60497fe33e2b74a609b7e411"]
    run = ImportRun.objects.get(pk=document["run"])
    assert_failed_rows_keep_the_export_s_columns(run)
    log = bytes(run.log_csv).decode("utf-8-sig")
    assert "Work Email is empty (mapped to email)." in log


def test_a_preset_saved_as_a_profile_reads_its_sample_export(acme):
    code, out, err = run_command(
        "import_profile", "--company", "acme", "--preset", "workday", "--name", "Workday HR"
    )
    assert code == 0, err
    assert out.strip() == 'Created the import profile "Workday HR" of Acme Demo.'

    code, document = import_json(
        str(DOCS_SAMPLES / "workday-export.csv"),
        "--company",
        "acme",
        "--profile",
        "workday hr",
        "--dry-run",
    )

    assert code == 1, document
    assert [row["action"] for row in document["rows"]] == [
        "update",
        "update",
        "create",
        "error",
        "error",
    ]
    assert document["rows"][0]["changes"]["email"] == [
        "alice.martin@acme.example",
        "alice.durand@acme.example",
    ]
