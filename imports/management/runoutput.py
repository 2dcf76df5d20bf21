"""What the commands share: finding the company or run named on the command line, the wait
with its progress line, then one JSON document (`--json`) or a summary, and the exit code.

Exit codes: 0 every row is fine, 1 some rows have errors, 2 nothing was done (the file or the
run failed, all or nothing found errors, or the command could not do what was asked: an unknown
company or run, a run in a state that does not allow it, SmartRecruiters not answering). An
error is one line (`cannot`), never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports import services
from imports.models import ImportRun, Missing
from imports.selectors import exit_code, run_document, run_done_by_action
from imports.services.lookups import lookup_read
from imports.services.planning import held_message
from imports.totals import done_words, run_totals, totals_words
from user2smart.companies.connection import CompanyApiError
from user2smart.companies.models import Company

POLL_SECONDS = 0.5
FAILED = 2


def cannot(message: str) -> CommandError:
    """The one-line error of a command that could not do what was asked (exit code 2)."""
    return CommandError(message, returncode=FAILED)


def company_of(slug: str) -> Company:
    company = Company.objects.filter(slug=slug).first()
    if company is None:
        raise cannot(f"There is no company {slug!r}.")
    return company


def run_of(run_id: int) -> ImportRun:
    run = ImportRun.objects.select_related("company").filter(pk=run_id).first()
    if run is None:
        raise cannot(f"There is no run {run_id}.")
    return run


def write_json(command: BaseCommand, document: Any) -> None:
    command.stdout.write(json.dumps(document, ensure_ascii=False, indent=1))


class LookupCommand(BaseCommand):
    """`list_roles` and `list_groups`: one `ID<TAB>name` line per item, or one JSON document
    `{"result": "V", "company": SLUG, KEY: [{"id", "name"}]}`. SmartRecruiters not answering:
    the reason (in `--json`, `{"result": "X", "company", "error"}`), exit code 2."""

    kind = ""  # a key of imports.services.lookups.LISTS
    key = ""  # the list's key in the JSON document

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="the company's slug")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options) -> None:
        company = company_of(options["company"])
        try:
            items = lookup_read(company=company, kind=self.kind)
        except CompanyApiError as exc:
            if not options["json"]:
                raise cannot(exc.message) from None
            write_json(self, {"result": "X", "company": company.slug, "error": exc.message})
            sys.exit(FAILED)
        if options["json"]:
            write_json(self, {"result": "V", "company": company.slug, self.key: items})
            return
        for item in items:
            self.stdout.write(f"{item['id']}\t{item['name']}")


def run_wait(run: ImportRun, *, show_progress: bool) -> None:
    """Until the run has ended (or its preview is planned); a progress line on stderr."""
    started = time.monotonic()
    while True:
        run.refresh_from_db()
        if run.finished_at is not None or run.status in (
            ImportRun.Status.PLANNED,
            ImportRun.Status.DISCARDED,
        ):
            break
        if show_progress:
            sys.stderr.write("\r" + _progress_line(run, time.monotonic() - started))
            sys.stderr.flush()
        time.sleep(POLL_SECONDS)
    if show_progress:
        sys.stderr.write("\r" + _progress_line(run, time.monotonic() - started) + "\n")


def run_follow(
    command: BaseCommand, run: ImportRun, *, plan_here: bool, no_wait: bool, as_json: bool
) -> None:
    """Once the command has made its run: plan it in this process (a preview), or print its id
    and return (`no_wait`), or wait for its end; then print it and exit with its code."""
    if plan_here:
        services.run_plan(run_id=run.pk)
    elif no_wait:
        command.stdout.write(json.dumps({"run": run.pk}) if as_json else str(run.pk))
        return
    else:
        run_wait(run, show_progress=not as_json and sys.stderr.isatty())
    code = run_report(command, run, as_json=as_json)
    if code:
        sys.exit(code)


def run_report(command: BaseCommand, run: ImportRun, *, as_json: bool) -> int:
    """Print the run (one JSON document, or a summary); the command's exit code."""
    run.refresh_from_db()
    document = run_document(run)
    if as_json:
        write_json(command, document)
    else:
        _summary(command, run, document)
    return exit_code(run, document)


def _summary(command: BaseCommand, run: ImportRun, document: dict) -> None:
    write = command.stdout.write
    if "counts" not in document:
        write(f"Run {run.pk}: X, the file was not imported: {document['error']}")
        return
    if run.refused:
        write(f"Run {run.pk}: X, {run.error}")
    write(f"Run {run.pk} ({run.get_status_display()}): {document['result']}  {_actions(run)}")
    if run.started_at is not None or run.refused:
        write(totals_words(run_totals(run)))
    if run.held:
        write(f"Held: {held_message(missing=run.held, limit=run.deactivation_limit or 0)}")
    if run.source == ImportRun.Source.UNDO:
        write(f"Undoes: import {run.undoes_id}" if run.undoes_id else "Undoes: an import deleted")
    else:
        write(
            f"File: {run.file_name} ({run.encoding}, delimiter {run.delimiter!r}, "
            f"{'header' if run.has_header else 'no header'}"
            f"{f', profile {run.profile_name}' if run.profile_name else ''})"
        )
    if run.error and not run.refused:
        write(f"Stopped: {run.error}")
    failed = [row for row in document["rows"] if row["result"] == "ERROR"]
    for row in failed[:20]:
        where = f"line {row['line']}" if row["line"] is not None else row["email"]
        write(f"  {where}: {row['message']}")
    if len(failed) > 20:
        write(f"  ... and {len(failed) - 20} more (use --json for every row)")


def _actions(run: ImportRun) -> str:
    """What the plan will do (a preview), or what the run did (created, not "to create"; a run
    that all or nothing refused did nothing)."""
    full_sync = run.missing == Missing.DEACTIVATE
    if run.started_at is None and not run.refused:
        words = (
            f"{run.count_create} to create, {run.count_update} to update, "
            f"{run.count_unchanged} unchanged, {run.count_error} with errors"
        )
        return words + (f", {run.count_deactivate} to deactivate" if full_sync else "")
    return done_words(run_done_by_action(run), full_sync=full_sync)


def _progress_line(run: ImportRun, elapsed: float) -> str:
    totals = run_totals(run)
    width = 30
    filled = int(width * totals.done / max(totals.rows, 1))
    rate = totals.processed / elapsed if elapsed > 0 else 0.0
    left = (totals.rows - totals.processed) / rate if rate > 0 else 0.0
    bar = "#" * filled + "-" * (width - filled)
    if run.checking:
        status = "checking the file"
    else:
        status = (
            f"{totals.done}/{totals.rows} rows done, {totals.processed} processed, "
            f"{totals.errors} errors"
        )
    return f"[{bar}] {status}, {rate:.1f} rows/s, {left:.0f} s left   "
