"""The run log and the failed-rows file: what a person opens in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest

from imports.csvfile import COLUMNS, read_csv
from imports.logs import (
    LOG_COLUMNS,
    LogLine,
    changes_words,
    log_message,
    neutralise,
    read_log,
    write_failed_rows,
    write_log,
)
from imports.planner import Action, plan_rows
from imports.rows import RowChecker, UserRow, check_records
from tests.imports import DATA, SAMPLES, sample_directory

BOM = b"\xef\xbb\xbf"


def parse(data: bytes, delimiter: str = ",") -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=delimiter))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(start):
    assert neutralise(f"{start}SUM(A1:A9)") == f"'{start}SUM(A1:A9)"


@pytest.mark.parametrize("cell", ["Alice", "a-b@acme.example", "", " =x", "O'Brien"])
def test_other_cells_are_left_as_they_are(cell):
    assert neutralise(cell) == cell


def test_none_and_numbers_become_text():
    assert (neutralise(None), neutralise(12), neutralise(-3)) == ("", "12", "'-3")


def test_the_log_has_its_header_and_one_line_per_row_in_utf8_with_bom():
    out = io.BytesIO()

    written = write_log(
        out,
        [
            LogLine(
                2,
                "gloria@acme.example",
                "Gloria",
                "Alyn",
                "create",
                "ERROR",
                'Selected role "Foo" does not exist in your SmartRecruiters company.',
            ),
            LogLine(
                3,
                "zoe@acme.example",
                "Zoë",
                "Müller",
                "update",
                "OK",
                "Update lastName.",
                "65a000000000000000000009",
                "Last name: Muller → Müller",
            ),
        ],
    )

    assert written == 2
    assert out.getvalue().startswith(BOM)
    assert b"\r\n" in out.getvalue()
    assert parse(out.getvalue()) == [
        list(LOG_COLUMNS),
        [
            "2",
            "gloria@acme.example",
            "Gloria",
            "Alyn",
            "create",
            "ERROR",
            'Gloria Alyn: Selected role "Foo" does not exist in your SmartRecruiters company.',
            "",
            "",
        ],
        [
            "3",
            "zoe@acme.example",
            "Zoë",
            "Müller",
            "update",
            "OK",
            "Zoë Müller: Update lastName.",
            "65a000000000000000000009",
            "Last name: Muller → Müller",
        ],
    ]


def test_changes_read_as_on_the_run_page():
    words = changes_words(
        {
            "lastName": ["Muller", "Müller"],
            "accessGroups": [[], ["g1", "g2"]],
            "location": [None, {"countryCode": "FR", "city": "Paris"}],
            "active": [False, True],
        }
    )

    assert words == (
        "Last name: Muller → Müller; Access groups: (empty) → g1, g2; "
        "Location: (empty) → FR, Paris; Active: no → yes"
    )


def test_a_log_written_before_the_changes_column_still_reads_back():
    earlier = "\ufeffline,email,firstName,lastName,action,result,message,smartRecruitersId\r\n"
    earlier += "2,ann@x.example,Ann,Lee,unchanged,OK,Ann Lee: Already up to date.,a1\r\n"

    assert read_log(earlier.encode()) == [
        LogLine(2, "ann@x.example", "Ann", "Lee", "unchanged", "OK", "Already up to date.", "a1")
    ]


def test_the_name_is_put_in_front_of_a_message_once():
    assert log_message("Gloria", "Alyn", "Gloria Alyn: Done.") == "Gloria Alyn: Done."
    assert log_message("", "", "The email address is missing.") == "The email address is missing."


def test_formulas_in_the_log_are_neutralised():
    out = io.BytesIO()

    write_log(out, [LogLine(2, "=HYPERLINK(1)", "+A", "-B", "error", "ERROR", "msg")])

    assert parse(out.getvalue())[1][1:4] == ["'=HYPERLINK(1)", "'+A", "'-B"]


def test_the_writers_leave_the_stream_open_for_the_caller():
    out = io.BytesIO()

    write_log(out, [])
    write_failed_rows(out, [])

    assert not out.closed
    assert out.getvalue().count(BOM) == 1


def test_failed_rows_are_written_in_the_input_format_with_a_blank_password():
    directory = sample_directory()
    csv_file = read_csv((SAMPLES / "ignore-role-and-groups-on-update.csv").read_bytes())
    dialect = csv_file.dialect
    checker = RowChecker(roles=directory.roles, groups=directory.groups, ignored=dialect.ignored)
    planned = list(plan_rows(check_records(csv_file, checker), "update", directory))
    failed = [row.source for row in planned if row.action is Action.ERROR]
    out = io.BytesIO()

    write_failed_rows(out, failed, columns=dialect.header_names, delimiter=dialect.delimiter)

    rows = parse(out.getvalue())
    assert rows[0] == list(dialect.header_names)
    assert rows[0][3] == "!systemRoleId"
    assert rows[1][:4] == ["new.hire11@acme.example", "Mei", "Chen", "STANDARD"]
    assert len(rows) == 2


def test_failed_rows_upload_again_exactly_as_they_were_read():
    directory = sample_directory()
    original = read_csv((DATA / "excel-csv-utf8-semicolon.csv").read_bytes())
    records = list(original)
    records[0].cells[COLUMNS.index("password")] = "Pw-1"
    records[0].cells[COLUMNS.index("externalData")] = "-42"
    expected = [[*record.cells] for record in records]
    for cells in expected:
        cells[COLUMNS.index("password")] = ""
    out = io.BytesIO()

    write_failed_rows(out, [record.values for record in records], delimiter=";")
    again = read_csv(out.getvalue())
    reread = list(again)

    assert again.dialect.delimiter == ";"
    assert [record.cells for record in reread] == [
        [neutralise(cell) for cell in cells] for cells in expected
    ]
    checker = RowChecker(roles=directory.roles, groups=directory.groups)
    row = checker.check(reread[0])
    assert isinstance(row, UserRow)
    assert row.external_data == "-42"
    assert row.password is None
