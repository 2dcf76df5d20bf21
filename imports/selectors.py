"""Reads of runs and rows, shaped for pages, commands and downloads.

Once a run has ended, its unchanged rows are folded: deleted from the rows table, their lines
kept by the run's log (`imports/services/retention.py`). Whatever lists a run's lines reads the
unchanged ones from the log whenever the log is there (their outcome never changes after it,
folded or not yet) and every other row from the table, which is the truth for them.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.db.models.functions import Concat, Lower

from imports import logs
from imports.models import ImportRow, ImportRun, MirroredUser, Missing, line_order
from imports.totals import run_totals
from user2smart.companies.models import Company

# The rows a run keeps only in its log once it has ended.
FOLDED_ROWS = Q(action=ImportRow.Action.UNCHANGED, status=ImportRow.Status.DONE)


def is_folded_line(line: logs.LogLine) -> bool:
    """A line of the log that stands for a folded row (or one about to be)."""
    return line.action == ImportRow.Action.UNCHANGED and line.result == "OK"


def run_log_lines(run: ImportRun) -> list[logs.LogLine] | None:
    """Every line of the run's log, read once, when the log can stand for its folded rows:
    written, with one line per row. None when it cannot (no log yet, none to fold, or a log
    written otherwise): the rows table then holds every row."""
    if not run.count_unchanged or not run.rows_total:
        return None
    data = _log_of(run.pk) if "log_csv" in run.get_deferred_fields() else run.log_csv
    if not data:
        return None
    lines = logs.read_log(bytes(data))
    return lines if len(lines) == run.rows_total else None


def _log_of(run_id: int) -> bytes | None:
    return ImportRun.objects.filter(pk=run_id).values_list("log_csv", flat=True).first()


def run_document(run: ImportRun, *, with_rows: bool = True) -> dict[str, Any]:
    """The JSON document `import_users --json` prints (and the run page shows)."""
    if run.error and not run.rows_total:
        return {"result": "X", "run": run.pk, "status": run.status, "error": run.error}
    document: dict[str, Any] = {
        "result": run.result or ("X" if run.count_error else "V"),
        "run": run.pk,
        "status": run.status,
        "mode": run.mode,
        "encoding": run.encoding,
        "delimiter": run.delimiter,
        "header": run.has_header,
        "counts": {
            "create": run.count_create,
            "update": run.count_update,
            "unchanged": run.count_unchanged,
            "error": run.count_error,
            "deactivate": run.count_deactivate,
        },
        "missing": run.missing,
        "held": run.held,
        "allOrNothing": run.all_or_nothing,
        "totals": run_totals(run).to_json(),
        "doneByAction": run_done_by_action(run),
    }
    if run.source == ImportRun.Source.UNDO:
        document["undoes"] = run.undoes_id
    if run.missing == Missing.DEACTIVATE:
        document["leftAlone"] = run.left_alone
        document["deactivationLimit"] = run.deactivation_limit
    if run.error:
        document["error"] = run.error
    if with_rows:
        document["rows"] = list(run_row_documents(run))
    return document


def run_done_by_action(run: ImportRun) -> dict[str, int]:
    """Rows done, by what was planned for them: what was created, updated, deactivated (and the
    unchanged rows, done from the start). A preview has done nothing but its unchanged rows."""
    done = dict(
        run.rows.filter(status=ImportRow.Status.DONE)
        .exclude(action=ImportRow.Action.UNCHANGED)
        .order_by()
        .values_list("action")
        .annotate(count=Count("pk"))
    )
    return {
        "create": done.get(ImportRow.Action.CREATE, 0),
        "update": done.get(ImportRow.Action.UPDATE, 0),
        "unchanged": run.count_unchanged,
        "deactivate": done.get(ImportRow.Action.DEACTIVATE, 0),
    }


def run_row_documents(run: ImportRun) -> Iterator[dict[str, Any]]:
    """One document per line of the file, in line order, folded rows included."""
    lines = run_log_lines(run)
    if lines is None:
        yield from (row_document(row) for row in run.rows.order_by(*line_order()).iterator())
        return
    kept = (
        row_document(row)
        for row in run.rows.exclude(FOLDED_ROWS).order_by(*line_order()).defer("payload").iterator()
    )
    folded = (line_document(line) for line in lines if is_folded_line(line))
    yield from heapq.merge(
        kept, folded, key=lambda document: (document["line"] is None, document["line"] or 0)
    )


def row_document(row: ImportRow) -> dict[str, Any]:
    if row.status in ImportRow.FINAL_STATUSES:
        result = "OK" if row.status == ImportRow.Status.DONE else "ERROR"
    else:
        result = "ERROR" if row.action == ImportRow.Action.ERROR else "OK"
    return {
        "line": row.line,
        "email": row.email,
        "action": row.action,
        "status": row.status,
        "result": result,
        "message": row.message,
        "changes": row.changes,
        "errors": row.errors,
        "smartRecruitersId": row.sr_user_id,
    }


def line_document(line: logs.LogLine) -> dict[str, Any]:
    """The document of a folded row, from its line of the log (as `row_document` had it)."""
    return {
        "line": line.line,
        "email": line.email,
        "action": line.action,
        "status": ImportRow.Status.DONE.value,
        "result": line.result,
        "message": line.message,
        "changes": {},
        "errors": [],
        "smartRecruitersId": line.smartrecruiters_id or "",
    }


def exit_code(run: ImportRun, document: dict[str, Any]) -> int:
    """The commands' exit code: 0 every row fine, 1 some rows have errors, 2 nothing imported
    (the file failed, or all or nothing refused a file with errors)."""
    if "counts" not in document or (run.status == ImportRun.Status.FAILED and not run.rows_total):
        return 2
    if run.refused:
        return 2
    return 0 if document["result"] == "V" else 1


# What the timeline reads of a row and its run: never the payload (it may hold a password from
# the file) nor the run's files.
TIMELINE_FIELDS = (
    "line",
    "email",
    "first_name",
    "last_name",
    "action",
    "changes",
    "errors",
    "status",
    "message",
    "sr_user_id",
    "run__company_id",
    "run__source",
    "run__created_by__username",
    "run__created_by__first_name",
    "run__created_by__last_name",
    "run__run_as_email",
    "run__file_name",
    "run__created_at",
    "run__dry_run",
    "run__status",
)


def people_search(*, company: Company, query: str = "") -> QuerySet[MirroredUser]:
    """The company's people as SmartRecruiters last returned them, by email; with `query`, only
    those whose email, name or external data holds it (any case)."""
    people = MirroredUser.objects.filter(company=company).order_by("email", "pk")
    query = query.strip()
    if not query:
        return people
    return people.annotate(full_name=Concat("first_name", Value(" "), "last_name")).filter(
        Q(email__icontains=query)
        | Q(full_name__icontains=query)
        | Q(external_data__icontains=query)
    )


def person_of(
    *, user_id: str, companies: QuerySet[Company], current: Company
) -> MirroredUser | None:
    """The person `user_id` of the current company, else of another of `companies`, else None."""
    found = MirroredUser.objects.filter(user_id=user_id, company__in=companies)
    first = Case(When(company=current, then=Value(0)), default=Value(1))
    return found.order_by(first, "company__name").first()


def person_timeline(*, person: MirroredUser) -> QuerySet[ImportRow]:
    """Every change User2Smart made, or tried to make, to `person`, newest first.

    The rows of the person's company that name their SmartRecruiters id, and the rows that name
    no id (a create that failed, a row not sent) with the person's email. Rows that changed
    nothing and rows of previews never applied are left out.
    """
    theirs = Q(sr_user_id=person.user_id) & ~Q(sr_user_id="")
    if person.email:
        theirs |= Q(sr_user_id="", email_lower=person.email.lower())
    return (
        ImportRow.objects.annotate(email_lower=Lower("email"))
        .filter(theirs, run__company_id=person.company_id, run__dry_run=False)
        .exclude(action=ImportRow.Action.UNCHANGED)
        .select_related("run", "run__created_by")
        .only(*TIMELINE_FIELDS)
        .order_by("-run__created_at", "-run_id", "-line")
    )
