"""Reads of runs and rows, shaped for pages, commands and downloads."""

from __future__ import annotations

from typing import Any

from imports.models import ImportRow, ImportRun


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
        },
    }
    if run.error:
        document["error"] = run.error
    if with_rows:
        document["rows"] = [row_document(row) for row in run.rows.order_by("line").iterator()]
    return document


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


def exit_code(run: ImportRun, document: dict[str, Any]) -> int:
    """The commands' exit code: 0 every row fine, 1 some rows have errors, 2 nothing imported."""
    if "counts" not in document or (run.status == ImportRun.Status.FAILED and not run.rows_total):
        return 2
    return 0 if document["result"] == "V" else 1
