"""`import_users --dry-run` plans sample files against the emulated company, changing nothing."""

import pytest

from imports.models import ImportRun
from tests.imports.runs.conftest import SAMPLES, import_json, run_command

pytestmark = pytest.mark.integration


def by_line(document: dict) -> dict[int, dict]:
    return {row["line"]: row for row in document["rows"]}


def test_dry_run_of_the_basic_sample_plans_each_row_and_sends_nothing(acme, emulator):
    emulator.clear_stats()

    code, document = import_json(str(SAMPLES / "users-basic.csv"), "--company", "acme", "--dry-run")

    rows = by_line(document)
    assert code == 0, document
    assert document["result"] == "V"
    assert (document["encoding"], document["delimiter"], document["header"]) == (
        "utf-8",
        ",",
        True,
    )
    assert rows[2]["action"] == "update"
    assert rows[2]["changes"] == {"lastName": ["Martin", "Martin-Durand"]}
    assert [rows[line]["action"] for line in (3, 4, 5, 6)] == ["create"] * 4
    assert rows[7]["action"] == "unchanged"
    assert rows[8]["action"] == "update"
    assert rows[8]["changes"]["active"] == [False, True]
    writes = {k: v for k, v in emulator.stats()["requests"].items() if not k.startswith("GET")}
    assert writes == {}
    run = ImportRun.objects.get(pk=document["run"])
    assert (run.source, run.status, run.dry_run) == ("command", "planned", True)


def test_dry_run_of_the_errors_sample_names_each_line_and_column(acme):
    code, document = import_json(str(SAMPLES / "errors.csv"), "--company", "acme", "--dry-run")

    rows = by_line(document)
    assert code == 1
    assert document["result"] == "X"
    expected = {
        2: "email",
        3: "firstName",
        4: "systemRoleId",
        5: "languageCode",
        6: "active",
        7: "countryCode",
        8: "city",
        9: "countryCode",
        10: "accessGroupId",
        12: "email",
        13: "ssoIdentifier",
    }
    for line, column in expected.items():
        assert rows[line]["action"] == "error", rows[line]
        assert column in [error["column"] for error in rows[line]["errors"]], rows[line]
    assert rows[11]["action"] == "create"


@pytest.mark.parametrize(
    ("sample", "encoding", "delimiter", "header"),
    [
        ("excel-utf8-bom-semicolon.csv", "utf-8-sig", ";", True),
        ("windows-1252-semicolon.csv", "cp1252", ";", True),
        ("no-header.csv", "utf-8", ",", False),
    ],
)
def test_dry_run_detects_how_each_sample_is_written(acme, sample, encoding, delimiter, header):
    code, document = import_json(str(SAMPLES / sample), "--company", "acme", "--dry-run")

    assert code == 0, document
    assert (document["encoding"], document["delimiter"], document["header"]) == (
        encoding,
        delimiter,
        header,
    )


def test_a_file_that_is_not_csv_exits_2_with_the_reason(acme, tmp_path):
    workbook = tmp_path / "users.xlsx"
    workbook.write_bytes(b"PK\x03\x04" + bytes(200))

    code, document = import_json(str(workbook), "--company", "acme", "--dry-run")

    assert code == 2
    assert document["result"] == "X"
    assert "not a CSV file" in document["error"]


def test_without_dry_run_and_without_workers_the_command_says_so(acme):
    code, _out, err = run_command(
        "import_users", str(SAMPLES / "users-basic.csv"), "--company", "acme"
    )

    assert code != 0
    assert "No worker is running" in err
    assert not ImportRun.objects.exists()
