"""`manage.py import_users FILE --company SLUG`: import a CSV file, or preview it (--dry-run).

Exit codes: 0 every row is fine, 1 some rows have errors, 2 the file (or the run) failed, or
--all-or-nothing refused a file with errors (nothing was applied).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports import services
from imports.csvfile import CsvFileError
from imports.models import ImportRun, Missing, Mode
from imports.options import ALL_OR_NOTHING_HELP, CLI_DELIMITERS, CLI_QUOTECHARS
from imports.selectors import exit_code, run_document
from imports.services.intake import CREATE_CANNOT_DEACTIVATE
from imports.services.planning import held_message
from user2smart.companies.models import Company
from user2smart.health import workers_listening

POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Import users from a CSV file into a company's SmartRecruiters (or preview with --dry-run)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--company", required=True, help="the company's slug")
        parser.add_argument("--mode", choices=Mode.values, default=Mode.UPSERT)
        parser.add_argument("--dry-run", action="store_true", help="plan only, change nothing")
        parser.add_argument(
            "--missing",
            choices=Missing.values,
            default=Missing.KEEP,
            help="active users with no row in the file: keep them (default) or deactivate them",
        )
        parser.add_argument(
            "--allow-deactivations",
            type=int,
            metavar="N",
            help="with --missing deactivate: this run may deactivate up to N people (instead of "
            "the company's limit)",
        )
        parser.add_argument("--all-or-nothing", action="store_true", help=ALL_OR_NOTHING_HELP)
        parser.add_argument("--header", choices=["auto", "yes", "no"], default="auto")
        parser.add_argument("--delimiter", choices=list(CLI_DELIMITERS), default="auto")
        parser.add_argument("--quotechar", choices=list(CLI_QUOTECHARS), default="auto")
        parser.add_argument("--encoding", default="auto", help="auto, or e.g. utf-8, cp1252")
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument(
            "--no-wait", action="store_true", help="print the run id at once and return"
        )

    def handle(self, *args, **options) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"There is no company {options['company']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        dry_run = options["dry_run"]
        if options["missing"] == Missing.DEACTIVATE and options["mode"] == Mode.CREATE:
            raise CommandError(CREATE_CANNOT_DEACTIVATE)
        if options["allow_deactivations"] is not None and options["missing"] != Missing.DEACTIVATE:
            raise CommandError("--allow-deactivations goes with --missing deactivate.")
        if not dry_run and not workers_listening():
            raise CommandError(
                "No worker is running, so the import could not be applied. Start one with: "
                "celery -A user2smart worker (or preview with --dry-run)."
            )
        csv_options = {
            "header": options["header"],
            "delimiter": CLI_DELIMITERS[options["delimiter"]],
            "quotechar": CLI_QUOTECHARS[options["quotechar"]],
            "encoding": options["encoding"],
        }
        try:
            with path.open("rb") as handle:
                run = services.run_start(
                    company=company,
                    file=handle,
                    file_name=path.name,
                    mode=options["mode"],
                    source=ImportRun.Source.COMMAND,
                    options=csv_options,
                    dry_run=dry_run,
                    enqueue=not dry_run,
                    missing=options["missing"],
                    deactivation_limit=options["allow_deactivations"],
                    all_or_nothing=options["all_or_nothing"],
                )
        except (CsvFileError, ValueError) as exc:
            raise CommandError(str(exc)) from None

        if dry_run:
            services.run_plan(run_id=run.pk)
        elif options["no_wait"]:
            self.stdout.write(json.dumps({"run": run.pk}) if options["json"] else str(run.pk))
            return
        else:
            self._wait(run, show_progress=not options["json"] and sys.stderr.isatty())

        run.refresh_from_db()
        document = run_document(run)
        if options["json"]:
            self.stdout.write(json.dumps(document, ensure_ascii=False, indent=1))
        else:
            self._summary(run, document)
        code = exit_code(run, document)
        if code:
            sys.exit(code)

    def _wait(self, run: ImportRun, *, show_progress: bool) -> None:
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

    def _summary(self, run: ImportRun, document: dict) -> None:
        write = self.stdout.write
        if "counts" not in document:
            write(f"Run {run.pk}: X, the file was not imported: {document['error']}")
            return
        counts = document["counts"]
        if run.refused:
            write(f"Run {run.pk}: X, {run.error}")
        missing = ""
        if run.missing == Missing.DEACTIVATE:
            missing = f", {counts['deactivate']} not in the file"
        write(
            f"Run {run.pk} ({run.get_status_display()}): {document['result']}  "
            f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['unchanged']} unchanged, {counts['error']} with errors{missing}"
        )
        if run.held:
            write(f"Held: {held_message(missing=run.held, limit=run.deactivation_limit or 0)}")
        write(
            f"File: {run.file_name} ({run.encoding}, delimiter {run.delimiter!r}, "
            f"{'header' if run.has_header else 'no header'})"
        )
        if run.error and not run.refused:
            write(f"Stopped: {run.error}")
        failed = [row for row in document["rows"] if row["result"] == "ERROR"]
        for row in failed[:20]:
            where = f"line {row['line']}" if row["line"] is not None else row["email"]
            write(f"  {where}: {row['message']}")
        if len(failed) > 20:
            write(f"  ... and {len(failed) - 20} more (use --json for every row)")


def _progress_line(run: ImportRun, elapsed: float) -> str:
    total = max(run.rows_total, 1)
    done = run.rows_done
    width = 30
    filled = int(width * done / total)
    rate = done / elapsed if elapsed > 0 else 0.0
    left = (run.rows_total - done) / rate if rate > 0 else 0.0
    bar = "#" * filled + "-" * (width - filled)
    status = "planning" if run.status == ImportRun.Status.VALIDATING else f"{done}/{run.rows_total}"
    return f"[{bar}] {status} rows, {rate:.1f} rows/s, {left:.0f} s left   "
