"""Reading the dialect: which line is a header, which delimiter and quotation character."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from imports.csvfile.format import (
    BY_LOWER_NAME,
    COLUMNS,
    DELIMITER_NAMES,
    DELIMITERS,
    IGNORABLE_COLUMNS,
    REQUIRED_COLUMNS,
    CsvFileError,
    CsvOptions,
)

_SAMPLE_RECORDS = 20
# An unknown column name is quoted up to this many characters in the error (a whole line read
# as one name would otherwise make the message, and the page, as wide as the line).
_QUOTED_NAME_LIMIT = 40


def reader_arguments(delimiter: str, quotechar: str | None) -> dict[str, Any]:
    if quotechar is None:
        return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE, "quotechar": None}
    return {"delimiter": delimiter, "quotechar": quotechar, "doublequote": True}


def _header_name(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip()


def _known_names(cells: list[str]) -> tuple[int, int]:
    """(cells that are column names, non-empty cells) of a record."""
    names = [_header_name(cell) for cell in cells]
    filled = [name for name in names if name]
    known = sum(1 for name in filled if name.removeprefix("!").lower() in BY_LOWER_NAME)
    return known, len(filled)


def is_header(cells: list[str]) -> bool:
    known, filled = _known_names(cells)
    return known > 0 and known * 2 >= filled


def raw_names(cells: list[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """A header as written (trimmed, trailing empty names dropped): a profile reads it."""
    names = [_header_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    return tuple(names), frozenset()


def parse_header(cells: list[str], line: int) -> tuple[tuple[str, ...], frozenset[str]]:
    names = [_header_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    columns: list[str] = []
    ignored: set[str] = set()
    unknown: list[str] = []
    for position, name in enumerate(names, start=1):
        bare = name.removeprefix("!")
        column = BY_LOWER_NAME.get(bare.lower())
        if column is None:
            unknown.append(_quoted(name) if name else f"(an empty name in position {position})")
            continue
        if column in columns:
            raise CsvFileError(f'The column "{column}" appears twice in the header.', line=line)
        if name.startswith("!"):
            if column not in IGNORABLE_COLUMNS:
                raise CsvFileError(
                    f'The "!" prefix is only allowed on systemRoleId and accessGroupId, not on '
                    f'"{name}".',
                    line=line,
                )
            ignored.add(column)
        columns.append(column)
    if unknown:
        raise CsvFileError(
            f"The header has unknown column names: {', '.join(unknown)}. The expected names "
            f"are: {', '.join(COLUMNS)} (in any order and any case).",
            line=line,
        )
    missing = [name for name in COLUMNS if name in REQUIRED_COLUMNS and name not in columns]
    if missing:
        raise CsvFileError(
            f"The header lacks required columns: {', '.join(missing)}.",
            line=line,
        )
    return tuple(columns), frozenset(ignored)


def _quoted(name: str) -> str:
    if len(name) > _QUOTED_NAME_LIMIT:
        return f'"{name[: _QUOTED_NAME_LIMIT - 1]}…" ({len(name)} characters)'
    return f'"{name}"'


def _complete_lines(text: str) -> str:
    """The sample without its last, possibly cut, line (unless it is the only one)."""
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def choose_quotechar(text: str, options: CsvOptions) -> str | None:
    if options.quotechar == "none":
        return None
    if options.quotechar != "auto":
        return options.quotechar
    delimiters = re.escape(
        options.delimiter if options.delimiter != "auto" else "".join(DELIMITERS)
    )
    double = re.compile(rf'(?:^|[{delimiters}])"', re.MULTILINE)
    single = re.compile(rf"(?:^|[{delimiters}])'[^'\r\n]*'(?:[{delimiters}]|$)", re.MULTILINE)
    if not double.search(text) and single.search(text):
        return "'"
    return '"'


def _sample_records(text: str, delimiter: str, quotechar: str | None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), **reader_arguments(delimiter, quotechar))
    records: list[list[str]] = []
    try:
        for cells in reader:
            if "".join(cells).strip():
                records.append(cells)
                if len(records) == _SAMPLE_RECORDS:
                    break
    except csv.Error:
        pass
    return records


def _fits(cells: list[str], width: int) -> bool:
    return len(cells) == width or (len(cells) > width and not "".join(cells[width:]).strip())


def detect_delimiter(text: str, quotechar: str | None) -> str:
    """The candidate that makes a header of column names, else 19 values a line, else the most
    regular lines; ties go to the first of , ; tab |."""
    text = _complete_lines(text)
    best: tuple[Any, ...] = (0, False, 0.0)
    chosen = None
    blank = False  # Some delimiter makes every line empty, as in a file of ";;;;" lines.
    for delimiter in DELIMITERS:
        records = _sample_records(text, delimiter, quotechar)
        blank = blank or not records
        if not records or len(records[0]) < 2:
            continue
        known, filled = _known_names(records[0])
        header_score = known if known * 2 >= filled else 0
        widths = [len(cells) for cells in records]
        data = records[1:] if header_score else records
        all_fit = bool(data) and all(_fits(cells, len(COLUMNS)) for cells in data)
        score = (header_score, all_fit, widths.count(widths[0]) / len(widths))
        if chosen is None or score > best:
            best, chosen = score, delimiter
    if blank:
        raise CsvFileError("The file is empty: it holds only blank lines.")
    if chosen is None:
        raise CsvFileError(
            "No separator found: the first lines have no comma, semicolon, tab or vertical bar "
            "between values. Is this a CSV file?"
        )
    return chosen


def _reads_well(records: list[list[str]]) -> bool:
    """The first record is a header of column names, or every record has the 19 values."""
    if not records:
        return False
    return is_header(records[0]) or all(_fits(cells, len(COLUMNS)) for cells in records)


def check_chosen_delimiter(text: str, delimiter: str, quotechar: str | None) -> None:
    """Refuse a chosen delimiter that does not split the file when another one clearly does.

    Read with the wrong delimiter, a header is one long unknown name and every line has one
    value: the errors that follow would not say what is wrong. This says it.
    """
    text = _complete_lines(text)
    if _reads_well(_sample_records(text, delimiter, quotechar)):
        return
    for other in DELIMITERS:
        if other != delimiter and _reads_well(_sample_records(text, other, quotechar)):
            raise CsvFileError(
                f"The file seems to be separated by {DELIMITER_NAMES[other]}s, not "
                f"{DELIMITER_NAMES[delimiter]}s. Choose the {DELIMITER_NAMES[other]} as the "
                "delimiter in the options, or leave the delimiter to detect."
            )
