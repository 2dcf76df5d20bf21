"""How runs and rows read on the pages: words and figures, no database access."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imports.csvfile import Dialect
from imports.logs import FIELD_LABELS, LogLine, value_words
from imports.models import ImportRow, ImportRun, Missing
from imports.totals import RunTotals

ROW_RESULTS = {
    ImportRow.Status.DONE: "Done",
    ImportRow.Status.ERROR: "Error",
    ImportRow.Status.SKIPPED: "Not sent",
    ImportRow.Status.HELD: "Held",
}
# What a preview's row will do: nothing has happened yet, so no result.
PLANNED_RESULTS = {
    ImportRow.Action.CREATE: "Will create",
    ImportRow.Action.UPDATE: "Will update",
    ImportRow.Action.UNCHANGED: "No change",
    ImportRow.Action.ERROR: "Error: will not be sent",
    ImportRow.Action.DEACTIVATE: "Will deactivate",
}
# Row filters of the run page: name -> (label, filter of the rows query).
ROW_FILTERS: dict[str, tuple[str, dict[str, Any]]] = {
    "all": ("All rows", {}),
    "errors": ("Errors only", {"status__in": [ImportRow.Status.ERROR, ImportRow.Status.SKIPPED]}),
    "create": ("Create", {"action": ImportRow.Action.CREATE}),
    "update": ("Update", {"action": ImportRow.Action.UPDATE}),
    "unchanged": ("Unchanged", {"action": ImportRow.Action.UNCHANGED}),
    "deactivate": ("Not in the file", {"action": ImportRow.Action.DEACTIVATE}),
    "held": ("Held", {"status": ImportRow.Status.HELD}),
}
# The filters that may list folded rows, which the run's log holds: name -> the actions shown
# (None: every action). The other filters never include a folded row.
LOG_ROW_FILTERS: dict[str, str | None] = {"all": None, "unchanged": ImportRow.Action.UNCHANGED}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class RowView:
    """One row of the rows table; ``line`` is None for a person missing from the file."""

    line: int | None
    email: str
    name: str
    action: str
    action_label: str
    result: str
    failed: bool
    message: str
    changes: list[Change]
    errors: list[dict[str, Any]]


def row_result(row: ImportRow, *, preview: bool) -> str:
    """`Done`, `Error`... once sent; in a preview, what will happen (`Will create`...)."""
    if row.status == ImportRow.Status.HELD:
        return "Held: will not be deactivated" if preview else ROW_RESULTS[row.status]
    if preview:
        return PLANNED_RESULTS.get(row.action, "")
    return ROW_RESULTS.get(row.status, "")


def row_view(row: ImportRow, *, preview: bool = False) -> RowView:
    changes = [
        Change(FIELD_LABELS.get(name, name), value_words(pair[0]), value_words(pair[1]))
        for name, pair in row.changes.items()
    ]
    failed = row.status in (ImportRow.Status.ERROR, ImportRow.Status.SKIPPED)
    # A planned error repeats its errors in the message: the errors list says it better.
    message = "" if row.errors and row.action == ImportRow.Action.ERROR else row.message
    return RowView(
        line=row.line,
        email=row.email,
        name=f"{row.first_name} {row.last_name}".strip(),
        action=row.action,
        action_label=row.get_action_display(),
        result=row_result(row, preview=preview),
        failed=failed,
        message=message,
        changes=changes,
        errors=row.errors,
    )


def line_view(line: LogLine) -> RowView:
    """A folded row, as its line of the run's log tells it."""
    failed = line.result != "OK"
    return RowView(
        line=line.line,
        email=line.email,
        name=f"{line.first_name} {line.last_name}".strip(),
        action=line.action,
        action_label=ImportRow.Action(line.action).label,
        result=ROW_RESULTS[ImportRow.Status.ERROR if failed else ImportRow.Status.DONE],
        failed=failed,
        message=line.message,
        changes=[],
        errors=[],
    )


def row_filters(run: ImportRun) -> list[tuple[str, str]]:
    """The row filters this run's page offers, (name, label): the full sync's only when the
    run can have such rows."""
    hidden: set[str] = set()
    if run.missing != Missing.DEACTIVATE:
        hidden.add("deactivate")
    if not run.held:
        hidden.add("held")
    return [(name, label) for name, (label, _) in ROW_FILTERS.items() if name not in hidden]


def left_alone_words(left_alone: dict[str, int]) -> str:
    """`3 people missing from the file were left alone, never deactivated: administrators (2),
    protected addresses (1).` (empty when nobody was)."""
    total = sum(left_alone.values())
    if not total:
        return ""
    people = (
        "1 person missing from the file was"
        if total == 1
        else (f"{total} people missing from the file were")
    )
    ranked = sorted(left_alone.items(), key=lambda item: (-item[1], item[0]))  # most first
    reasons = ", ".join(f"{reason} ({count})" for reason, count in ranked if count)
    return f"{people} left alone, never deactivated: {reasons}."


def dialect_words(run: ImportRun) -> str:
    """What was found in the file, e.g. `UTF-8 with BOM, semicolon-separated, ..., header line`."""
    if not run.encoding or not run.delimiter or run.has_header is None:
        return ""
    dialect = Dialect(run.encoding, run.delimiter, run.quotechar or None, run.has_header)
    return dialect.describe()


def started_by(run: ImportRun) -> str:
    if run.source == ImportRun.Source.SCHEDULE:
        return "schedule"
    if run.source == ImportRun.Source.COMMAND or (
        run.source == ImportRun.Source.UNDO and run.created_by is None
    ):
        return "command line"
    if run.created_by is None:
        return "a removed user"
    return run.created_by.get_full_name() or run.created_by.get_username()


@dataclass(frozen=True)
class Progress:
    """The live bar: `totals.done` of `totals.rows` (what is as the file asks), and the rate at
    which rows are processed since they started to be sent."""

    totals: RunTotals
    rate: float | None
    seconds_left: int | None

    @property
    def time_left(self) -> str:
        return duration_words(self.seconds_left)


def progress_of(
    *,
    totals: RunTotals,
    processed_at_start: int,
    started_at: datetime | None,
    now: datetime,
) -> Progress:
    """The totals, the rate since the rows started to be sent, and the time left at that rate.

    Rows that needed no call (unchanged, errors in the file, held) are processed from the start
    and do not count in the rate.
    """
    sent = totals.processed - processed_at_start
    elapsed = (now - started_at).total_seconds() if started_at else 0
    if sent <= 0 or elapsed < 1:
        return Progress(totals, None, None)
    rate = sent / elapsed
    left = max(0, totals.rows - totals.processed)
    return Progress(totals, rate, math.ceil(left / rate))


def duration_words(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min left"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min left" if minutes else f"about {hours} h left"
