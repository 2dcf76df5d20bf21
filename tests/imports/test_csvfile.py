"""Reading files: detection, dialects, line numbers, file-level errors, streaming."""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator

import pytest

from imports.csvfile import COLUMNS, CsvFileError, CsvOptions, Dialect, RawRecord, read_csv
from tests.imports import DATA, SAMPLES

HEADER = ",".join(COLUMNS)
ROW = "a{n}@acme.example,Ann,Lee,EMPLOYEE,E{n},en,,,true,true,FR,,,Paris,1 rue X,75001,,,"


def read(source: bytes | io.BufferedIOBase, **options: str) -> tuple[Dialect, list[RawRecord]]:
    csv_file = read_csv(source, CsvOptions(**options))
    return csv_file.dialect, list(csv_file)


def read_data(name: str, **options: str) -> tuple[Dialect, list[RawRecord]]:
    return read((DATA / name).read_bytes(), **options)


def value(record: RawRecord, column: str) -> str:
    return record.values[column]


class NonSeekable(io.RawIOBase):
    """A stream that can only be read forward, like a socket or an SFTP download."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# The shared samples -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "header", "lines"),
    [
        ("users-basic.csv", "utf-8", ",", True, [2, 3, 4, 5, 6, 7, 8]),
        ("excel-utf8-bom-semicolon.csv", "utf-8-sig", ";", True, [2, 3, 4]),
        ("no-header.csv", "utf-8", ",", False, [1, 2]),
        ("windows-1252-semicolon.csv", "cp1252", ";", True, [2, 3]),
        ("email-change.csv", "utf-8", ",", True, [2]),
        ("ignore-role-and-groups-on-update.csv", "utf-8", ",", True, [2, 3]),
        ("errors.csv", "utf-8", ",", True, list(range(2, 14))),
    ],
)
def test_every_sample_is_read_by_detection_alone(name, encoding, delimiter, header, lines):
    dialect, records = read((SAMPLES / name).read_bytes())

    assert (dialect.encoding, dialect.delimiter, dialect.quotechar, dialect.header) == (
        encoding,
        delimiter,
        '"',
        header,
    )
    assert [record.line for record in records] == lines
    assert all(len(record.cells) == len(COLUMNS) for record in records)


def test_windows_1252_accents_are_read_as_written():
    _, records = read((SAMPLES / "windows-1252-semicolon.csv").read_bytes())

    names = [f"{value(r, 'firstName')} {value(r, 'lastName')}" for r in records]
    assert names == ["François Müller", "José Peña"]
    assert value(records[0], "city") == "Genève"


def test_excel_bom_header_is_read_and_a_comma_stays_inside_its_value():
    dialect, records = read((SAMPLES / "excel-utf8-bom-semicolon.csv").read_bytes())

    assert dialect.columns == COLUMNS
    assert value(records[0], "email") == "new.hire5@acme.example"
    assert value(records[0], "firstName") == "Élodie"
    assert value(records[0], "address") == "12, place Bellecour"
    assert value(records[1], "lastName") == "Groß"


def test_an_apostrophe_in_a_name_is_not_taken_for_a_quotation_mark():
    dialect, records = read((SAMPLES / "no-header.csv").read_bytes())

    assert dialect.quotechar == '"'
    assert value(records[0], "lastName") == "O'Brien"


def test_bang_columns_of_the_sample_are_recorded_as_ignored():
    dialect, records = read((SAMPLES / "ignore-role-and-groups-on-update.csv").read_bytes())

    assert dialect.ignored == {"systemRoleId", "accessGroupId"}
    assert dialect.header_names[3] == "!systemRoleId"
    assert value(records[0], "systemRoleId") == "ADMINISTRATOR"


# What spreadsheets and other tools write -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter", "quotechar", "first_email"),
    [
        ("excel-csv-utf8-semicolon.csv", "utf-8-sig", ";", '"', "ines.garcia@acme.example"),
        ("excel-csv-windows-1252-comma.csv", "cp1252", ",", '"', "francois.leclerc@acme.example"),
        ("libreoffice-calc.csv", "utf-8", ",", '"', "olga.ivanova@acme.example"),
        ("google-sheets.csv", "utf-8", ",", '"', "sam.taylor@acme.example"),
        ("excel-unicode-text-utf16le-tab.csv", "utf-16", "\t", '"', "kenji.sato@acme.example"),
        ("utf16be-semicolon.csv", "utf-16", ";", '"', "lea.weber@acme.example"),
        ("mac-cr-line-ends.csv", "utf-8", ",", '"', "cr.one@acme.example"),
        ("pipe-delimited.csv", "utf-8", "|", '"', "pipe.user@acme.example"),
        ("single-quotes.csv", "utf-8", ",", "'", "quote.user@acme.example"),
    ],
)
def test_files_from_common_tools_are_detected(name, encoding, delimiter, quotechar, first_email):
    dialect, records = read_data(name)

    assert (dialect.encoding, dialect.delimiter, dialect.quotechar) == (
        encoding,
        delimiter,
        quotechar,
    )
    assert dialect.header
    assert value(records[0], "email") == first_email


def test_excel_semicolon_export_keeps_quoted_delimiters_doubled_quotes_and_line_breaks():
    _, records = read_data("excel-csv-utf8-semicolon.csv")

    assert value(records[0], "address") == "Calle Sierpes 1; 2º"
    assert value(records[1], "lastName") == 'Dupont "Le Grand"'
    assert value(records[1], "address") == "3 rue de la Paix\nBâtiment B"
    assert [record.line for record in records] == [2, 3, 5]
    assert value(records[2], "firstName") == "Zoë"


def test_utf16_and_cp1252_text_is_decoded():
    _, utf16 = read_data("excel-unicode-text-utf16le-tab.csv")
    _, cp1252 = read_data("excel-csv-windows-1252-comma.csv")

    assert (value(utf16[0], "lastName"), value(utf16[0], "city")) == ("Satō", "東京")
    assert value(cp1252[1], "city") == "Tromsø"
    assert value(cp1252[0], "address") == "1 rue Sainte-Catherine, suite 5"


def test_classic_mac_line_ends_count_as_lines():
    _, records = read_data("mac-cr-line-ends.csv")

    assert [(record.line, value(record, "lastName")) for record in records] == [
        (2, "Arr"),
        (3, "Two"),
    ]


def test_single_quotes_hold_commas():
    _, records = read_data("single-quotes.csv")

    assert value(records[0], "lastName") == "Smith, Jr."
    assert value(records[0], "address") == "10 Downing St, Westminster"


def test_google_sheets_file_without_a_final_line_break_keeps_its_last_row():
    _, records = read_data("google-sheets.csv")

    assert [value(record, "email") for record in records] == [
        "sam.taylor@acme.example",
        "ana.lima@acme.example",
    ]


def test_header_in_another_order_and_case_with_missing_optional_columns():
    dialect, records = read_data("header-reordered-subset.csv")

    assert dialect.columns[:3] == ("lastName", "email", "firstName")
    assert records[0].values == {
        **dict.fromkeys(COLUMNS, ""),
        "email": "chidi.okafor@acme.example",
        "firstName": "Chidi",
        "lastName": "Okafor",
        "systemRoleId": "employee",
        "languageCode": "EN",
        "active": "true",
        "enabled": "true",
        "countryCode": "ng",
        "city": "Lagos",
    }


def test_bang_prefix_is_read_in_any_case():
    dialect, _ = read_data("bang-columns.csv")

    assert dialect.ignored == {"systemRoleId", "accessGroupId"}
    assert "!accessGroupId" in dialect.header_names


def test_headerless_file_may_end_every_line_with_a_delimiter():
    dialect, records = read_data("headerless-trailing-delimiter.csv")

    assert not dialect.header
    assert dialect.delimiter == ";"
    assert [value(record, "lastName") for record in records] == ["One", "Two"]


def test_blank_lines_and_empty_rows_are_skipped_and_line_numbers_stay_physical():
    _, records = read_data("blank-lines.csv")

    assert [(record.line, value(record, "email")) for record in records] == [
        (4, "blank.one@acme.example"),
        (7, "blank.two@acme.example"),
    ]


def test_a_record_spanning_lines_is_numbered_by_its_first_line():
    _, records = read_data("quoted-multiline.csv")

    assert value(records[0], "firstName") == "Mary, Ann"
    assert value(records[0], "lastName") == 'O"Neil'
    assert value(records[0], "address") == "Flat 2\r\n5 Main St"
    assert [record.line for record in records] == [2, 4]


# Options -------------------------------------------------------------------------------------


def test_header_option_no_reads_the_first_line_as_a_user():
    _, records = read((SAMPLES / "users-basic.csv").read_bytes(), header="no")

    assert records[0].line == 1
    assert value(records[0], "email") == "email"


def test_header_option_yes_refuses_a_first_line_of_data():
    with pytest.raises(CsvFileError, match="unknown column names") as caught:
        read((SAMPLES / "no-header.csv").read_bytes(), header="yes")

    assert caught.value.line == 1


def test_explicit_delimiter_is_used_even_when_another_would_fit():
    dialect, records = read((SAMPLES / "users-basic.csv").read_bytes(), delimiter=",")

    assert dialect.delimiter == ","
    assert len(records) == 7


@pytest.mark.parametrize("header", ["auto", "yes", "no"])
def test_a_wrong_delimiter_is_named_as_such(header):
    with pytest.raises(CsvFileError) as caught:
        read((SAMPLES / "excel-utf8-bom-semicolon.csv").read_bytes(), delimiter=",", header=header)

    assert caught.value.message == (
        "The file seems to be separated by semicolons, not commas. Choose the semicolon as the "
        "delimiter in the options, or leave the delimiter to detect."
    )


def test_a_comma_file_read_with_semicolons_is_named_too():
    with pytest.raises(CsvFileError, match="separated by commas, not semicolons"):
        read((SAMPLES / "users-basic.csv").read_bytes(), delimiter=";", header="yes")


def test_a_long_unknown_column_name_is_cut_in_the_message():
    name = "x" * 300
    data = f"email,firstName,lastName,{name}\na@acme.example,Ann,Lee,EMPLOYEE\n".encode()

    with pytest.raises(CsvFileError) as caught:
        read(data)

    message = caught.value.message
    assert '"' + "x" * 39 + '…" (300 characters)' in message
    assert "x" * 41 not in message


@pytest.mark.parametrize(("values", "words"), [(1, "has 1 value,"), (2, "has 2 values,")])
def test_the_count_of_values_is_said_in_good_english(values, words):
    data = (",".join(["a@acme.example"] * values) + "\n").encode()
    rows = f"{HEADER}\n{ROW.format(n=1)}\n".encode()

    with pytest.raises(CsvFileError, match=words):
        read(data + rows, header="no", delimiter=",")


def test_quotechar_none_keeps_quotation_marks_as_text():
    data = f'{HEADER}\na@acme.example,"Ann",Lee,EMPLOYEE,,en,,,true,true,,,,,,,,,\n'.encode()

    dialect, records = read(data, quotechar="none")

    assert dialect.quotechar is None
    assert value(records[0], "firstName") == '"Ann"'


def test_explicit_encoding_overrides_detection():
    dialect, records = read((SAMPLES / "users-basic.csv").read_bytes(), encoding="latin-1")

    assert dialect.encoding == "iso8859-1"
    assert value(records[2], "city") == "KrakÃ³w"


def test_an_unknown_encoding_is_a_clear_error():
    with pytest.raises(CsvFileError, match='"klingon-8" is not an encoding'):
        CsvOptions(encoding="klingon-8")


def test_bytes_that_do_not_decode_in_the_chosen_encoding_name_their_line():
    with pytest.raises(CsvFileError, match="not valid UTF-8 text") as caught:
        read_data("errors/invalid-utf8-when-forced.csv", encoding="utf-8")

    assert caught.value.line == 2


def test_dialect_is_described_and_survives_json():
    dialect, _ = read((SAMPLES / "excel-utf8-bom-semicolon.csv").read_bytes())

    assert dialect.describe() == 'UTF-8 with BOM, semicolon-separated, quotes ", header line'
    assert Dialect.from_json(dialect.to_json()) == dialect


# File-level errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("unknown-header.csv", 1, 'unknown column names: "emial". The expected names are: email'),
        ("missing-required-column.csv", 1, "lacks required columns: languageCode"),
        ("bang-on-email.csv", 1, 'only allowed on systemRoleId and accessGroupId, not on "!email"'),
        ("duplicate-column.csv", 1, 'The column "email" appears twice'),
        ("headerless-wrong-field-count.csv", 3, "has 18 values, but a file without a header"),
        ("header-wrong-field-count.csv", 3, "has 3 values, but the header line has 19 columns"),
        ("unclosed-quote.csv", 3, "quotation mark opened on this line is never closed"),
        ("empty.csv", None, "The file is empty."),
        ("blank-lines-only.csv", None, "The file is empty"),
        ("header-only.csv", None, "header line but no rows of users"),
        ("excel-workbook.xlsx", None, "Excel workbook (.xlsx)"),
        ("binary.bin", None, "not a CSV text file"),
        ("no-delimiter.csv", None, "No separator found"),
    ],
)
def test_file_level_problems_stop_with_one_message_naming_the_line(name, line, words):
    with pytest.raises(CsvFileError) as caught:
        read_data(f"errors/{name}")

    assert words in str(caught.value)
    assert caught.value.line == line
    if line:
        assert str(caught.value).startswith(f"Line {line}: ")


def test_a_file_over_the_size_limit_is_refused_before_any_row():
    data = (f"{HEADER}\n" + "\n".join(ROW.format(n=n) for n in range(100))).encode()

    with pytest.raises(CsvFileError, match="larger than 2,000 bytes"):
        read_csv(data, max_bytes=2000)


def test_a_stream_over_the_size_limit_is_refused_while_reading():
    rows = (ROW.format(n=n).encode() + b"\n" for n in range(20_000))
    stream = io.BufferedReader(NonSeekable(iter([f"{HEADER}\n".encode(), *rows])))

    with pytest.raises(CsvFileError, match="larger than 1 MB"):
        list(read_csv(stream, max_bytes=1024 * 1024))


def test_more_rows_than_the_limit_is_an_error():
    data = (f"{HEADER}\n" + "\n".join(ROW.format(n=n) for n in range(11))).encode()

    assert len(list(read_csv(data, max_rows=11))) == 11
    with pytest.raises(CsvFileError, match="more than 10 rows"):
        list(read_csv(data, max_rows=10))


# Streaming -----------------------------------------------------------------------------------


def test_a_non_seekable_stream_is_read_in_full():
    lines = [f"{HEADER}\n".encode()] + [ROW.format(n=n).encode() + b"\n" for n in range(3000)]
    stream = io.BufferedReader(NonSeekable(iter(lines)))

    records = list(read_csv(stream))

    assert len(records) == 3000
    assert records[-1].line == 3001
    assert value(records[-1], "email") == "a2999@acme.example"


def test_a_non_utf8_byte_after_the_detection_sample_is_found_in_a_seekable_file():
    rows = [ROW.format(n=n) for n in range(2000)]
    rows[-1] = rows[-1].replace("Ann", "Zoë")
    data = f"{HEADER}\n{chr(10).join(rows)}\n".encode("cp1252")
    assert len(data) > 128 * 1024

    dialect, records = read(data)

    assert dialect.encoding == "cp1252"
    assert value(records[-1], "firstName") == "Zoë"


def test_memory_stays_flat_as_the_file_grows():
    def peak_while_reading(rows: int) -> int:
        chunks = (ROW.format(n=n).encode() + b"\n" for n in range(rows))
        stream = io.BufferedReader(NonSeekable(iter([f"{HEADER}\n".encode(), *chunks])))
        tracemalloc.start()
        count = sum(1 for _ in read_csv(stream))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == rows
        return peak

    small, large = peak_while_reading(5_000), peak_while_reading(50_000)

    assert large < small * 1.5 + 512 * 1024
