"""Properties: whatever the bytes or the values, a documented error or a result, never a crash."""

from __future__ import annotations

import io

from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.csvfile import COLUMNS, CsvFileError, CsvOptions, RawRecord, read_csv
from imports.logs import neutralise, write_failed_rows
from imports.planner import plan_rows
from imports.rows import EmailChecker, RejectedRow, RowChecker
from tests.imports import sample_directory

DIRECTORY = sample_directory()
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

options = st.builds(
    CsvOptions,
    header=st.sampled_from(["auto", "yes", "no"]),
    delimiter=st.sampled_from(["auto", ",", ";", "\t", "|"]),
    quotechar=st.sampled_from(["auto", '"', "'", "none"]),
    encoding=st.sampled_from(["auto", "utf-8", "utf-16", "cp1252", "latin-1"]),
)
# Text that looks like CSV often enough to get past detection: column names, separators,
# quotes, line ends, accents.
csv_like_text = st.lists(
    st.sampled_from([*COLUMNS, "!systemRoleId", ",", ";", "\t", "|", '"', "'", "\n", "\r\n", "\r"])
    | st.text(max_size=6),
    max_size=80,
).map("".join)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"])
csv_like_bytes = st.tuples(csv_like_text, encodings).map(
    lambda pair: pair[0].encode(pair[1], errors="replace")
)
cell = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
) | st.sampled_from(
    ["true", "FALSE", "EMPLOYEE", "Engineering", "en", "es-mx", "FR", "a@b.example"]
)


def consume(source: bytes, csv_options: CsvOptions | None = None) -> str:
    """What happened: how many records, or the file error's message."""
    try:
        return f"{sum(1 for _ in read_csv(source, csv_options, max_rows=1000))} records"
    except CsvFileError as error:
        return error.message


@PROPERTIES
@given(st.binary(max_size=2000), options)
def test_any_bytes_give_records_or_the_file_error(data, csv_options):
    assert consume(data, csv_options)


@PROPERTIES
@given(csv_like_bytes, options)
def test_any_csv_like_file_gives_records_or_the_file_error(data, csv_options):
    assert consume(data, csv_options)


@PROPERTIES
@given(st.integers(min_value=1, max_value=10**6), st.lists(cell, min_size=19, max_size=19))
def test_any_row_is_checked_and_planned_and_every_error_names_its_line_and_column(line, cells):
    checker = RowChecker(roles=DIRECTORY.roles, groups=DIRECTORY.groups)

    row = checker.check(RawRecord(line, list(cells)))
    (planned,) = plan_rows([row], "upsert", DIRECTORY)

    errors = row.errors if isinstance(row, RejectedRow) else planned.errors
    for error in errors:
        assert error.line == line
        assert error.column in COLUMNS
        assert str(error).startswith(f"Line {line}, column {error.column}: ")
    assert (planned.action.value == "error") == bool(errors)


@PROPERTIES
@given(st.from_regex(r"[A-Za-z0-9_+.-]{1,12}@[A-Za-z0-9.-]{1,16}", fullmatch=True))
def test_the_fast_email_check_agrees_with_email_validator(address):
    try:
        validate_email(address, check_deliverability=False)
        expected = None
    except EmailNotValidError as error:
        expected = str(error)

    assert EmailChecker().problem(address) == expected


printable_cell = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(["\n", "\r", "\t"]),
    max_size=10,
)


@PROPERTIES
@given(
    st.lists(st.lists(printable_cell, min_size=19, max_size=19), min_size=1, max_size=5),
    st.sampled_from([",", ";", "\t", "|"]),
)
def test_failed_rows_read_back_as_they_were_written(rows, delimiter):
    rows = [row for row in rows if "".join(row).strip()]
    out = io.BytesIO()

    write_failed_rows(out, rows, delimiter=delimiter)

    expected = [[neutralise(value) for value in row] for row in rows]
    for row in expected:
        row[COLUMNS.index("password")] = ""
    expected = [row for row in expected if "".join(row).strip()]
    if not expected:
        return
    assert [record.cells for record in read_csv(out.getvalue())] == expected
