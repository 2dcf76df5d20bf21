"""The file format's vocabulary: columns, options, the dialect read, records, the file error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

BY_LOWER_NAME = {name.lower(): name for name in COLUMNS}
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
    "iso8859-1": "Latin-1",
}


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
        encoding = ENCODING_LABELS.get(self.encoding, self.encoding)
        quote = "no quotation character" if self.quotechar is None else f"quotes {self.quotechar}"
        header = "header line" if self.header else "no header line"
        return f"{encoding}, {DELIMITER_NAMES[self.delimiter]}-separated, {quote}, {header}"

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
    of ``COLUMNS`` whatever the file's column order; a column the file lacks is empty.

    ``source`` is the record as the file has it (its own columns, in its order, the password
    blanked once read), for the failed-rows file; ``None``: the same as ``cells``."""

    line: int
    cells: list[str] = field(repr=False)
    source: list[str] | None = field(default=None, repr=False)

    @property
    def values(self) -> dict[str, str]:
        return dict(zip(COLUMNS, self.cells, strict=True))
