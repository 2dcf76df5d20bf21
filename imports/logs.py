"""The CSV files a run writes for people: its log, and the failed rows to fix and upload again.

Both are written as UTF-8 with a byte order mark: without it Excel opens a UTF-8 file as the
machine's legacy code page and shows "Ã©" for "é"; with it every spreadsheet and our own reader
see UTF-8. Lines end with CRLF, as Excel writes them. Every cell that a spreadsheet would take for
a formula is neutralised (``neutralise``); our reader takes that apostrophe off again.

Both writers stream to a binary file object and leave it open. ``read_log`` reads a log back
(the pages list a run's unchanged lines from it once their rows are folded).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO, Any, NamedTuple

from imports.csvfile import COLUMNS

LOG_COLUMNS = (
    "line",
    "email",
    "firstName",
    "lastName",
    "action",
    "result",
    "message",
    "smartRecruitersId",
    "changes",
)
# Logs written before the `changes` column was added (still read back for their folded rows).
_EARLIER_LOG_COLUMNS = LOG_COLUMNS[:-1]
# What the pages and the log call each changed field, and how a location reads.
FIELD_LABELS = {
    "email": "Email",
    "firstName": "First name",
    "lastName": "Last name",
    "systemRole": "System role",
    "externalData": "External data",
    "language": "Language",
    "ssoIdentifier": "SSO identifier",
    "location": "Location",
    "accessGroups": "Access groups",
    "active": "Active",
}
LOCATION_ORDER = ("countryCode", "regionCode", "city", "address", "postalCode")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class LogLine(NamedTuple):
    """One line of a run's log; ``result`` is ``OK`` or ``ERROR``."""

    line: int | None  # None: a person missing from the file
    email: str
    first_name: str
    last_name: str
    action: str
    result: str
    message: str
    smartrecruiters_id: str | None = None
    changes: str = ""  # `Last name: Martin → Martin-Durand; ...` (``changes_words``)


def value_words(value: Any) -> str:
    """One old or new value of a change, as text."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):  # a location
        parts = [str(value[key]) for key in LOCATION_ORDER if value.get(key)]
        return ", ".join(parts) or "(empty)"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def changes_words(changes: Mapping[str, Sequence[Any]]) -> str:
    """A row's changes as the run page shows them: `Last name: Martin → Martin-Durand; ...`."""
    return "; ".join(
        f"{FIELD_LABELS.get(name, name)}: {value_words(old)} → {value_words(new)}"
        for name, (old, new) in changes.items()
    )


def neutralise(cell: Any) -> str:
    """The cell as text, with a leading ``'`` when a spreadsheet would run it as a formula."""
    text = "" if cell is None else str(cell)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def log_message(first_name: str, last_name: str, text: str) -> str:
    """``Gloria Alyn: <text>``: the person's name (when there is one), then the sentence."""
    name = f"{first_name} {last_name}".strip()
    if not name or text.startswith(f"{name}:"):
        return text
    return f"{name}: {text}"


def write_log(out: IO[bytes], lines: Iterable[LogLine], *, delimiter: str = ",") -> int:
    """Write the log (header, then one line per input row); the number of rows written.

    Each message gets the person's name in front of it, once (see ``log_message``).
    """
    count = 0
    with _csv_writer(out, delimiter) as writer:
        writer.writerow(LOG_COLUMNS)
        for entry in lines:
            message = log_message(entry.first_name, entry.last_name, entry.message)
            writer.writerow(
                [
                    entry.line,
                    neutralise(entry.email),
                    neutralise(entry.first_name),
                    neutralise(entry.last_name),
                    entry.action,
                    entry.result,
                    neutralise(message),
                    neutralise(entry.smartrecruiters_id),
                    neutralise(entry.changes),
                ]
            )
            count += 1
    return count


def read_log(data: bytes) -> list[LogLine]:
    """The lines of a log ``write_log`` wrote (default delimiter), as they were given to it.

    Takes off what writing added: the ``'`` before a formula and the name before the message,
    so writing the lines again gives the same file. A file that is not such a log gives ``[]``.
    """
    records = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = tuple(next(records, ()))
    if header not in (LOG_COLUMNS, _EARLIER_LOG_COLUMNS):
        return []
    lines: list[LogLine] = []
    for record in records:
        if len(record) != len(header) or not (record[0].isdigit() or record[0] == ""):
            return []
        if any(cell[:1] == "'" for cell in record):
            record = [_restored(cell) for cell in record]
        number, email, first, last, action, result, message, sr_id, *changes = record
        name = f"{first} {last}".strip()
        if name and message.startswith(name) and message[len(name) : len(name) + 2] == ": ":
            message = message[len(name) + 2 :]
        line = int(number) if number else None
        lines.append(
            LogLine(line, email, first, last, action, result, message, sr_id, "".join(changes))
        )
    return lines


def line_key(entry: LogLine) -> tuple[bool, int]:
    """Sort key: file order, the people missing from the file (no line) last."""
    return (entry.line is None, entry.line or 0)


def _restored(cell: str) -> str:
    """A cell as it was before ``neutralise``."""
    return cell[1:] if cell[:1] == "'" and cell[1:].startswith(_FORMULA_STARTS) else cell


def write_failed_rows(
    out: IO[bytes],
    rows: Iterable[Sequence[str] | Mapping[str, str]],
    *,
    columns: Sequence[str] = COLUMNS,
    delimiter: str = ",",
) -> int:
    """Write failed input rows in the input format, ready to fix and upload again.

    ``columns`` is the header to write: the file's own names, in its order (``!`` prefixes
    included). ``rows`` hold the values as read: the file's cells in that order
    (``PlannedRow.source``), or ``{column: value}`` mappings by the format's column names.
    A column named password is always blank. Returns the number of rows written.
    """
    names = [column.removeprefix("!") for column in columns]
    secret = {position for position, name in enumerate(names) if name.lower() == "password"}
    count = 0
    # Every value in double quotes: the file then reads back the same whatever its values hold.
    with _csv_writer(out, delimiter, quoting=csv.QUOTE_ALL) as writer:
        writer.writerow(columns)
        for row in rows:
            if isinstance(row, Mapping):
                values = [row.get(name, "") for name in names]
            else:
                values = [*row, *[""] * (len(names) - len(row))][: len(names)]
            for position in secret:
                values[position] = ""
            writer.writerow([neutralise(value) for value in values])
            count += 1
    return count


@contextmanager
def _csv_writer(out: IO[bytes], delimiter: str, quoting: int = csv.QUOTE_MINIMAL) -> Iterator[Any]:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        yield csv.writer(text, delimiter=delimiter, lineterminator="\r\n", quoting=quoting)
    finally:
        text.flush()
        text.detach()
