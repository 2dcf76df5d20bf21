"""`list_roles`, `list_groups` and `export_users`, run as an operator runs them (a child process)
against the emulated company."""

import csv
import io
import json

import pytest

from imports.csvfile import COLUMNS
from imports.models import UserExport
from tests.imports.runs.conftest import SAMPLES, run_command
from tests.web.conftest import make_company

pytestmark = pytest.mark.integration


def assert_one_line_error(err: str, message: str) -> None:
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"CommandError: {message}"]


def error_line(err: str) -> str:
    """The command's one-line error (the lines before it, if any, are the log's)."""
    assert "Traceback" not in err
    *_log, last = err.strip().splitlines()
    return last


def export_rows(data: bytes, delimiter: str = ",") -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")  # as every file the product writes
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


# Roles and access groups


def test_list_roles_prints_each_role_id_and_name(acme, emulator):
    code, out, err = run_command("list_roles", "--company", "acme")

    assert code == 0, err
    expected = [f"{role['id']}\t{role['name']}" for role in emulator.company()["roles"]]
    assert out.splitlines() == expected
    assert "64b7f0c2a1d3e4f5a6b7c8d9\tHiring Manager" in expected


def test_list_roles_as_json(acme, emulator):
    code, out, err = run_command("list_roles", "--company", "acme", "--json")

    assert code == 0, err
    roles = [{"id": r["id"], "name": r["name"]} for r in emulator.company()["roles"]]
    assert json.loads(out) == {"result": "V", "company": "acme", "roles": roles}


def test_list_groups_as_json(acme, emulator):
    code, out, err = run_command("list_groups", "--company", "acme", "--json")

    assert code == 0, err
    groups = [{"id": g["id"], "name": g["name"]} for g in emulator.company()["access_groups"]]
    assert groups
    assert json.loads(out) == {"result": "V", "company": "acme", "accessGroups": groups}


@pytest.mark.parametrize(
    "command",
    [
        ["list_roles"],
        ["list_groups"],
        ["export_users"],
        ["refresh_directory"],
        ["import_users", str(SAMPLES / "users-basic.csv"), "--dry-run"],
    ],
)
def test_an_unknown_company_is_one_line_and_exit_code_2(acme, command):
    code, out, err = run_command(*command, "--company", "nope")

    assert (code, out) == (2, "")
    assert_one_line_error(err, "There is no company 'nope'.")


def test_smartrecruiters_not_answering_is_said_in_words(transactional_db):
    make_company("offline", "Offline Ltd")  # nothing listens at its address

    code, out, err = run_command("list_groups", "--company", "offline")
    json_code, json_out, _ = run_command("list_groups", "--company", "offline", "--json")

    assert (code, out) == (2, "")
    document = json.loads(json_out)
    assert json_code == 2
    assert (document["result"], document["company"]) == ("X", "offline")
    assert "SmartRecruiters" in document["error"]
    assert error_line(err) == f"CommandError: {document['error']}"


# Export


def test_export_users_writes_the_import_format_to_standard_output(acme, emulator):
    code, out, err = run_command("export_users", "--company", "acme", text=False)

    assert code == 0, err
    rows = export_rows(out)
    assert list(rows[0]) == list(COLUMNS)
    assert sorted(row["email"] for row in rows) == sorted(u["email"] for u in emulator.users())
    alice = next(row for row in rows if row["email"] == "alice.martin@acme.example")
    assert alice["city"] == ""  # not --complete: no location
    assert err.decode().strip() == "4 users of Acme Demo exported."
    [export] = UserExport.objects.all()
    assert (export.status, export.complete, export.content) == ("finished", False, "")
    assert export.deleted_at is not None  # handed over: not kept


def test_export_users_complete_to_a_file_with_another_delimiter(acme, emulator, tmp_path):
    path = tmp_path / "users.csv"

    code, out, err = run_command(
        "export_users", "--company", "acme", "--complete", "--delimiter", ";", "-o", str(path)
    )

    assert code == 0, err
    assert out.strip() == f"4 users of Acme Demo exported to {path}."
    rows = export_rows(path.read_bytes(), delimiter=";")
    alice = next(row for row in rows if row["email"] == "alice.martin@acme.example")
    assert (alice["countryCode"], alice["city"], alice["postalCode"]) == ("FR", "Paris", "75001")
    assert UserExport.objects.get().complete


def test_export_users_into_a_folder_that_does_not_exist(acme, tmp_path):
    path = tmp_path / "nowhere" / "users.csv"

    code, _out, err = run_command("export_users", "--company", "acme", "-o", str(path))

    assert code == 2
    assert_one_line_error(err, f"Cannot write {path}: No such file or directory.")
    # Said before reading SmartRecruiters: no export is made, none is thrown away.
    assert not UserExport.objects.exists()


def test_export_users_when_smartrecruiters_does_not_answer(transactional_db):
    make_company("offline", "Offline Ltd")

    code, out, err = run_command("export_users", "--company", "offline")

    assert (code, out) == (2, "")
    assert error_line(err).startswith("CommandError: The users of Offline Ltd were not exported: ")
    assert UserExport.objects.get().status == "failed"
