"""The reader: detect, read the header, then stream the records."""

from __future__ import annotations

import csv
import io
import itertools
import operator
from collections.abc import Iterable, Iterator
from typing import IO

from imports.csvfile.decoding import (
    UNDECODABLE,
    choose_encoding,
    decode_sample,
    open_text,
    prescan,
    read_up_to,
    reject_known_binary,
    reject_non_text,
    stream_position,
    too_large,
    undecodable,
)
from imports.csvfile.detection import (
    check_chosen_delimiter,
    choose_quotechar,
    detect_delimiter,
    is_header,
    parse_header,
    raw_names,
    reader_arguments,
)
from imports.csvfile.format import (
    COLUMNS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    DELIMITER_NAMES,
    SAMPLE_BYTES,
    CsvFileError,
    CsvOptions,
    Dialect,
    RawRecord,
)


class CsvFile:
    """A file being read: ``dialect`` is known at once, ``iter()`` streams the records once."""

    def __init__(
        self,
        dialect: Dialect,
        records: Iterator[tuple[int, list[str]]],
        max_rows: int,
        *,
        raw: bool = False,
    ) -> None:
        self.dialect = dialect
        self._records = records
        self._max_rows = max_rows
        self._raw = raw

    def __iter__(self) -> Iterator[RawRecord]:
        """Each record's 19 values in ``COLUMNS`` order, its cells as the file has them in
        ``source`` (the password blanked). A raw file (``read_csv(raw_header=True)``) gives its
        cells as they are, in the file's order: a profile maps them."""
        columns = self.dialect.columns
        width = len(columns)
        headerless = not self.dialect.header
        # Where each of COLUMNS sits in a line of this file (a missing one: after the last).
        reorder = None
        password = None
        if columns != COLUMNS and not self._raw:
            positions = {name: index for index, name in enumerate(columns)}
            reorder = operator.itemgetter(*(positions.get(name, width) for name in COLUMNS))
            password = positions.get("password")
        for count, (line, cells) in enumerate(self._records, start=1):
            if count > self._max_rows:
                raise _too_many_rows(self._max_rows)
            if len(cells) != width:
                cells = _fit(cells, width, line, headerless)
            if reorder is None:
                # The same list: the checker blanks the password in both.
                yield RawRecord(line, cells, cells)
                continue
            cells.append("")
            values = list(reorder(cells))
            cells.pop()
            if password is not None and cells[password]:
                cells[password] = ""
            yield RawRecord(line, values, cells)


def read_csv(
    source: bytes | IO[bytes],
    options: CsvOptions | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    raw_header: bool = False,
) -> CsvFile:
    """Detect how ``source`` is written, read its header and return the file ready to iterate.

    With ``raw_header`` the first line is the header whatever it holds: its names are the
    dialect's columns as written (a profile maps them), and records keep the file's order.

    ``source`` is bytes or a binary file object positioned at the start of the CSV data.
    Raises ``CsvFileError`` for file-level problems found up to the first record; later ones
    are raised while iterating.
    """
    options = options or CsvOptions()
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    start = stream_position(stream)
    if start is not None:
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
        if size > max_bytes:
            raise too_large(max_bytes)
    sample = read_up_to(stream, SAMPLE_BYTES)
    at_end = len(sample) < SAMPLE_BYTES
    reject_known_binary(sample)

    scan = prescan(stream, start) if start is not None else None
    encoding = choose_encoding(sample, options.encoding, scan, at_end)
    text = decode_sample(sample, encoding, at_end)
    reject_non_text(text, encoding)
    if not text.strip(" \t\r\n\ufeff"):
        raise CsvFileError("The file is empty.")

    quotechar = choose_quotechar(text, options)
    if options.delimiter == "auto":
        delimiter = detect_delimiter(text, quotechar)
    else:
        delimiter = options.delimiter
        check_chosen_delimiter(text, delimiter, quotechar)

    if start is not None:
        stream.seek(start)
        text = open_text(b"", stream, max_bytes, encoding)
    else:
        text = open_text(sample, stream, max_bytes, encoding)
    records = _parse_records(text, encoding, delimiter, quotechar)
    first = next(records, None)
    if first is None:
        raise CsvFileError("The file is empty: it holds only blank lines.")
    line, cells = first
    if cells[0].startswith("\ufeff"):
        cells[0] = cells[0][1:]
    has_header = is_header(cells) if options.header == "auto" else options.header == "yes"
    if raw_header:
        has_header = True
    if has_header:
        columns, ignored = raw_names(cells) if raw_header else parse_header(cells, line)
        second = next(records, None)
        if second is None:
            raise CsvFileError("The file has a header line but no rows of users.")
        records = itertools.chain([second], records)
    else:
        columns, ignored = COLUMNS, frozenset()
        records = itertools.chain([first], records)
    dialect = Dialect(encoding, delimiter, quotechar, has_header, columns, ignored)

    return CsvFile(dialect, records, max_rows, raw=raw_header)


def _parse_records(
    lines: Iterable[str], encoding: str, delimiter: str, quotechar: str | None
) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of every record that is not blank."""
    reader = csv.reader(lines, strict=True, **reader_arguments(delimiter, quotechar))
    last = 0
    try:
        for cells in reader:
            start = last + 1
            last = reader.line_num
            joined = "".join(cells)
            if not joined or joined.isspace():
                continue
            if UNDECODABLE in joined or "\x00" in joined:
                raise _unreadable(joined, encoding, start)
            yield start, cells
    except csv.Error as error:
        raise CsvFileError(_csv_error_message(str(error), delimiter), line=last + 1) from None
    except UnicodeError as error:
        raise undecodable(encoding, last + 1, error) from None


def _unreadable(text: str, encoding: str, line: int) -> CsvFileError:
    if UNDECODABLE in text:
        return undecodable(encoding, line)
    return CsvFileError(
        "This line holds a NUL character: the file is not a CSV text file, or its encoding is "
        "wrong.",
        line=line,
    )


def _csv_error_message(error: str, delimiter: str) -> str:
    if "unexpected end of data" in error:
        return "A quotation mark opened on this line is never closed."
    if "expected after" in error:
        return (
            "A closing quotation mark is followed by other characters instead of the "
            f"{DELIMITER_NAMES[delimiter]}. Put the whole value in quotation marks and double "
            "any quotation mark inside it."
        )
    if "field larger than field limit" in error:
        return (
            f"A value is longer than {csv.field_size_limit():,} characters: a quotation mark "
            "is probably never closed."
        )
    return f"This line cannot be read as CSV ({error})."


def _fit(cells: list[str], width: int, line: int, headerless: bool) -> list[str]:
    """Tolerate extra empty values at the end of a line (a trailing delimiter); refuse the rest."""
    if len(cells) > width and not "".join(cells[width:]).strip():
        return cells[:width]
    if headerless:
        raise CsvFileError(
            f"This line has {_values(len(cells))}, but a file without a header line needs "
            f"exactly {len(COLUMNS)}, in this order: {', '.join(COLUMNS)}.",
            line=line,
        )
    raise CsvFileError(
        f"This line has {_values(len(cells))}, but the header line has {width} columns.",
        line=line,
    )


def _values(count: int) -> str:
    return f"{count} value" if count == 1 else f"{count} values"


def _too_many_rows(max_rows: int) -> CsvFileError:
    return CsvFileError(
        f"The file has more than {max_rows:,} rows of users; split it into smaller files."
    )
