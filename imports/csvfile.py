"""Read a users CSV file: encoding, dialect and header detection, then raw records, streamed.

Pure module: bytes in, ``RawRecord`` objects out, no Django and no I/O beyond the stream it is
given. The file is never held in memory as one string: a 64 KiB sample drives detection, a cheap
byte-level pre-scan (seekable streams only) tells whether the whole file is UTF-8, then the
records are decoded and parsed line by line.

Every file-level problem raises ``CsvFileError`` with a sentence an HR admin understands, naming
the physical line when there is one. It can be raised by ``read_csv`` (empty file, bad header,
too large, ...) and while the records are iterated (a line with the wrong number of values, bytes
that do not decode, an unclosed quotation mark, more rows than the limit): whoever consumes the
records must treat the whole file as refused when it is raised, which is why a run plans every
row before applying any.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

COLUMNS: tuple[str, ...] = (
    "email",
    "firstName",
    "lastName",
    "systemRoleId",
    "externalData",
    "languageCode",
    "ssoIdentifier",
    "password",
    "active",
    "enabled",
    "countryCode",
    "regionCode",
    "region",
    "city",
    "address",
    "postalCode",
    "accessGroupId",
    "sendEmail",
    "oldEmail",
)
REQUIRED_COLUMNS = frozenset(
    {"email", "firstName", "lastName", "systemRoleId", "languageCode", "active", "enabled"}
)
IGNORABLE_COLUMNS = frozenset({"systemRoleId", "accessGroupId"})
DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
QUOTECHARS: tuple[str, ...] = ('"', "'")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
SAMPLE_BYTES = 64 * 1024
_CHUNK_BYTES = 1024 * 1024
_SAMPLE_RECORDS = 20

_BY_LOWER_NAME = {name.lower(): name for name in COLUMNS}
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
    "iso8859-1": "Latin-1",
}
# Bytes that Windows-1252 leaves undefined: a file holding one is read as Latin-1 instead.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_BINARY_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
)

# Undecodable bytes become this lone surrogate, which no strict decoder ever produces, so the
# line holding them is found exactly even though the text layer decodes ahead in chunks.
_UNDECODABLE = "\udcff"
_ERROR_HANDLER = "user2smart.csvfile.mark"


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return _UNDECODABLE, error.end


codecs.register_error(_ERROR_HANDLER, _mark_undecodable)


class CsvFileError(Exception):
    """A problem with the file as a whole: the run stops before any change is made."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"Line {line}: {message}" if line else message)


@dataclass(frozen=True)
class CsvOptions:
    """How to read a file; ``auto`` everywhere means detect.

    ``header``: auto / yes / no. ``delimiter``: auto or one of ``,`` ``;`` tab ``|``.
    ``quotechar``: auto, ``"``, ``'`` or ``none``. ``encoding``: auto or a Python codec name.
    """

    header: str = "auto"
    delimiter: str = "auto"
    quotechar: str = "auto"
    encoding: str = "auto"

    def __post_init__(self) -> None:
        if self.header not in ("auto", "yes", "no"):
            raise ValueError(f"header must be auto, yes or no, not {self.header!r}")
        if self.delimiter != "auto" and self.delimiter not in DELIMITERS:
            raise ValueError(f"delimiter must be auto or one of {DELIMITERS!r}")
        if self.quotechar not in ("auto", "none", *QUOTECHARS):
            raise ValueError("quotechar must be auto, none, '\"' or \"'\"")
        if self.encoding != "auto":
            try:
                b"\x00\x00\x00\x00".decode(self.encoding, "ignore")
            except LookupError:
                raise CsvFileError(
                    f'"{self.encoding}" is not an encoding User2Smart knows. Leave the encoding '
                    "on detect, or choose one such as utf-8, utf-16, windows-1252 or latin-1."
                ) from None


@dataclass(frozen=True)
class Dialect:
    """What was used to read the file (detected or chosen), recorded on the run."""

    encoding: str
    delimiter: str
    quotechar: str | None
    header: bool
    columns: tuple[str, ...] = COLUMNS
    ignored: frozenset[str] = field(default_factory=frozenset)

    @property
    def header_names(self) -> tuple[str, ...]:
        """The columns as the file names them, ``!`` prefix included."""
        return tuple(f"!{name}" if name in self.ignored else name for name in self.columns)

    def describe(self) -> str:
        """One line for people, e.g. ``UTF-8 with BOM, semicolon-separated, header line``."""
        encoding = _ENCODING_LABELS.get(self.encoding, self.encoding)
        quote = "no quotation character" if self.quotechar is None else f"quotes {self.quotechar}"
        header = "header line" if self.header else "no header line"
        return f"{encoding}, {_DELIMITER_NAMES[self.delimiter]}-separated, {quote}, {header}"

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "header": self.header,
            "columns": list(self.columns),
            "ignored": sorted(self.ignored),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dialect:
        return cls(
            encoding=data["encoding"],
            delimiter=data["delimiter"],
            quotechar=data["quotechar"],
            header=data["header"],
            columns=tuple(data["columns"]),
            ignored=frozenset(data["ignored"]),
        )


@dataclass(slots=True)
class RawRecord:
    """One record as read: its first physical line, and its 19 values (untrimmed) in the order
    of ``COLUMNS`` whatever the file's column order; a column the file lacks is empty."""

    line: int
    cells: list[str] = field(repr=False)

    @property
    def values(self) -> dict[str, str]:
        return dict(zip(COLUMNS, self.cells, strict=True))


class CsvFile:
    """A file being read: ``dialect`` is known at once, ``iter()`` streams the records once."""

    def __init__(
        self,
        dialect: Dialect,
        records: Iterator[tuple[int, list[str]]],
        max_rows: int,
    ) -> None:
        self.dialect = dialect
        self._records = records
        self._max_rows = max_rows

    def __iter__(self) -> Iterator[RawRecord]:
        columns = self.dialect.columns
        width = len(columns)
        headerless = not self.dialect.header
        # Where each of COLUMNS sits in a line of this file (a missing one: after the last).
        reorder = None
        if columns != COLUMNS:
            positions = {name: index for index, name in enumerate(columns)}
            reorder = operator.itemgetter(*(positions.get(name, width) for name in COLUMNS))
        for count, (line, cells) in enumerate(self._records, start=1):
            if count > self._max_rows:
                raise _too_many_rows(self._max_rows)
            if len(cells) != width:
                cells = _fit(cells, width, line, headerless)
            if reorder is not None:
                cells.append("")
                cells = list(reorder(cells))
            yield RawRecord(line, cells)


def read_csv(
    source: bytes | IO[bytes],
    options: CsvOptions | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> CsvFile:
    """Detect how ``source`` is written, read its header and return the file ready to iterate.

    ``source`` is bytes or a binary file object positioned at the start of the CSV data.
    Raises ``CsvFileError`` for file-level problems found up to the first record; later ones
    are raised while iterating.
    """
    options = options or CsvOptions()
    stream: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    start = _position(stream)
    if start is not None:
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
        if size > max_bytes:
            raise _too_large(max_bytes)
    sample = _read_up_to(stream, SAMPLE_BYTES)
    at_end = len(sample) < SAMPLE_BYTES
    for signature, what in _BINARY_SIGNATURES:
        if sample.startswith(signature):
            raise CsvFileError(
                f"This file is {what}, not a CSV file. Save it from your spreadsheet as "
                '"CSV UTF-8" and upload that file.'
            )

    scan = _prescan(stream, start) if start is not None else None
    encoding = _choose_encoding(sample, options.encoding, scan, at_end)
    text = _decode_sample(sample, encoding, at_end)
    _reject_non_text(text, encoding)
    if not text.strip(" \t\r\n\ufeff"):
        raise CsvFileError("The file is empty.")

    quotechar = _choose_quotechar(text, options)
    delimiter = (
        options.delimiter if options.delimiter != "auto" else _detect_delimiter(text, quotechar)
    )

    if start is not None:
        stream.seek(start)
        text = _text(b"", stream, max_bytes, encoding)
    else:
        text = _text(sample, stream, max_bytes, encoding)
    records = _records(text, encoding, delimiter, quotechar)
    first = next(records, None)
    if first is None:
        raise CsvFileError("The file is empty: it holds only blank lines.")
    line, cells = first
    if cells[0].startswith("\ufeff"):
        cells[0] = cells[0][1:]
    has_header = _is_header(cells) if options.header == "auto" else options.header == "yes"
    if has_header:
        columns, ignored = _parse_header(cells, line)
        second = next(records, None)
        if second is None:
            raise CsvFileError("The file has a header line but no rows of users.")
        records = itertools.chain([second], records)
    else:
        columns, ignored = COLUMNS, frozenset()
        records = itertools.chain([first], records)
    dialect = Dialect(encoding, delimiter, quotechar, has_header, columns, ignored)

    return CsvFile(dialect, records, max_rows)


# Reading bytes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    utf8_valid: bool
    cp1252_defined: bool


def _position(stream: IO[bytes]) -> int | None:
    try:
        return stream.tell() if stream.seekable() else None
    except (AttributeError, OSError):
        return None


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    missing = size
    while missing > 0:
        chunk = stream.read(missing)
        if not chunk:
            break
        parts.append(chunk)
        missing -= len(chunk)
    return b"".join(parts)


def _prescan(stream: IO[bytes], start: int) -> _Scan:
    """One pass over the bytes of a seekable stream: are they UTF-8, and Windows-1252?"""
    stream.seek(start)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8_valid = True
    cp1252_defined = True
    while chunk := stream.read(_CHUNK_BYTES):
        if chunk.isascii() and not decoder.getstate()[0]:
            continue
        if utf8_valid:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8_valid = False
        if cp1252_defined and _has_cp1252_undefined(chunk):
            cp1252_defined = False
    if utf8_valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_valid = False
    stream.seek(start)
    return _Scan(utf8_valid, cp1252_defined)


def _has_cp1252_undefined(data: bytes) -> bool:
    return any(byte in data for byte in _CP1252_UNDEFINED)


def _choose_encoding(sample: bytes, chosen: str, scan: _Scan | None, at_end: bool) -> str:
    if chosen != "auto":
        name = codecs.lookup(chosen).name
        # Python's UTF-16 and UTF-32 stream decoders need a byte order mark; without one,
        # take the little-endian order that Windows writes.
        if name == "utf-16" and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16-le"
        if name == "utf-32" and not sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32-le"
        return name
    if sample.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if scan is not None:
        utf8_valid, cp1252_defined = scan.utf8_valid, scan.cp1252_defined
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=at_end)
            utf8_valid = True
        except UnicodeDecodeError:
            utf8_valid = False
        cp1252_defined = not _has_cp1252_undefined(sample)
    if utf8_valid:
        return "utf-8"
    return "cp1252" if cp1252_defined else "latin-1"


def _decode_sample(sample: bytes, encoding: str, at_end: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors=_ERROR_HANDLER)
    try:
        return decoder.decode(sample, final=at_end)
    except UnicodeError as error:
        raise _undecodable(encoding, None, error) from None


def _reject_non_text(text: str, encoding: str) -> None:
    controls = sum(1 for char in text if char < " " and char not in "\t\r\n\x0c")
    if "\x00" in text or controls > max(8, len(text) // 100):
        hint = (
            " If it is a UTF-16 file without a byte order mark, choose its encoding explicitly."
            if not encoding.startswith("utf-16")
            else ""
        )
        raise CsvFileError(f"This file is not a CSV text file (it holds binary data).{hint}")


class _PrefixedStream(io.RawIOBase):
    """The bytes already read for detection, then the rest of the stream, within a size limit."""

    def __init__(self, prefix: bytes, rest: IO[bytes], limit: int) -> None:
        self._prefix = memoryview(prefix)
        self._rest = rest
        self._limit = limit
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._prefix:
            size = min(len(buffer), len(self._prefix))
            buffer[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
        else:
            data = self._rest.read(len(buffer)) or b""
            size = len(data)
            buffer[:size] = data
        self._count += size
        if self._count > self._limit:
            raise _too_large(self._limit)
        return size


def _text(prefix: bytes, rest: IO[bytes], limit: int, encoding: str) -> io.TextIOWrapper:
    """The decoded text; lines end with LF, CR or CRLF, undecodable bytes are marked."""
    raw = io.BufferedReader(_PrefixedStream(prefix, rest, limit), buffer_size=_CHUNK_BYTES)
    return io.TextIOWrapper(raw, encoding=encoding, errors=_ERROR_HANDLER, newline="")


# Parsing records -------------------------------------------------------------------------------


def _reader_arguments(delimiter: str, quotechar: str | None) -> dict[str, Any]:
    if quotechar is None:
        return {"delimiter": delimiter, "quoting": csv.QUOTE_NONE, "quotechar": None}
    return {"delimiter": delimiter, "quotechar": quotechar, "doublequote": True}


def _records(
    lines: Iterable[str], encoding: str, delimiter: str, quotechar: str | None
) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, cells) of every record that is not blank."""
    reader = csv.reader(lines, strict=True, **_reader_arguments(delimiter, quotechar))
    last = 0
    try:
        for cells in reader:
            start = last + 1
            last = reader.line_num
            joined = "".join(cells)
            if not joined or joined.isspace():
                continue
            if _UNDECODABLE in joined or "\x00" in joined:
                raise _unreadable(joined, encoding, start)
            yield start, cells
    except csv.Error as error:
        raise CsvFileError(_csv_error_message(str(error), delimiter), line=last + 1) from None
    except UnicodeError as error:
        raise _undecodable(encoding, last + 1, error) from None


def _unreadable(text: str, encoding: str, line: int) -> CsvFileError:
    if _UNDECODABLE in text:
        return _undecodable(encoding, line)
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
            f"{_DELIMITER_NAMES[delimiter]}. Put the whole value in quotation marks and double "
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
            f"This line has {len(cells)} values, but a file without a header line needs exactly "
            f"{len(COLUMNS)}, in this order: {', '.join(COLUMNS)}.",
            line=line,
        )
    raise CsvFileError(
        f"This line has {len(cells)} values, but the header line has {width} columns.", line=line
    )


# Header ----------------------------------------------------------------------------------------


def _header_name(cell: str) -> str:
    return cell.strip().lstrip("\ufeff").strip()


def _known_names(cells: list[str]) -> tuple[int, int]:
    """(cells that are column names, non-empty cells) of a record."""
    names = [_header_name(cell) for cell in cells]
    filled = [name for name in names if name]
    known = sum(1 for name in filled if name.removeprefix("!").lower() in _BY_LOWER_NAME)
    return known, len(filled)


def _is_header(cells: list[str]) -> bool:
    known, filled = _known_names(cells)
    return known > 0 and known * 2 >= filled


def _parse_header(cells: list[str], line: int) -> tuple[tuple[str, ...], frozenset[str]]:
    names = [_header_name(cell) for cell in cells]
    while names and not names[-1]:
        names.pop()
    columns: list[str] = []
    ignored: set[str] = set()
    unknown: list[str] = []
    for position, name in enumerate(names, start=1):
        bare = name.removeprefix("!")
        column = _BY_LOWER_NAME.get(bare.lower())
        if column is None:
            unknown.append(f'"{name}"' if name else f"(an empty name in position {position})")
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


# Detection -------------------------------------------------------------------------------------


def _complete_lines(text: str) -> str:
    """The sample without its last, possibly cut, line (unless it is the only one)."""
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def _choose_quotechar(text: str, options: CsvOptions) -> str | None:
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
    reader = csv.reader(io.StringIO(text, newline=""), **_reader_arguments(delimiter, quotechar))
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


def _detect_delimiter(text: str, quotechar: str | None) -> str:
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
        fits = bool(data) and all(_fits(cells, len(COLUMNS)) for cells in data)
        score = (header_score, fits, widths.count(widths[0]) / len(widths))
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


def _undecodable(
    encoding: str, line: int | None, error: UnicodeError | None = None
) -> CsvFileError:
    label = _ENCODING_LABELS.get(encoding, encoding)
    where = "This line holds" if line else "The file holds"
    reason = f" ({error})" if error else ""
    return CsvFileError(
        f"{where} bytes that are not valid {label} text{reason}. Save the file as "
        '"CSV UTF-8", or choose its encoding explicitly.',
        line=line,
    )


# Messages --------------------------------------------------------------------------------------


def _too_large(max_bytes: int) -> CsvFileError:
    megabytes = max_bytes / (1024 * 1024)
    size = f"{megabytes:g} MB" if megabytes >= 1 else f"{max_bytes:,} bytes"
    return CsvFileError(f"The file is larger than {size}; split it into smaller files.")


def _too_many_rows(max_rows: int) -> CsvFileError:
    return CsvFileError(
        f"The file has more than {max_rows:,} rows of users; split it into smaller files."
    )
