"""`manage.py import_users FILE --company SLUG`: import a CSV file, or preview it (--dry-run).

Exit codes (`imports/management/runoutput.py`): 0 every row is fine, 1 some rows have errors,
2 nothing was imported (the file or the run failed, --all-or-nothing found errors, the run could
not start: an unknown company, no worker, a bad option).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from imports import services
from imports.csvfile import CsvFileError
from imports.management.runoutput import cannot, company_of, run_follow
from imports.models import ImportRun, Missing, Mode
from imports.options import ALL_OR_NOTHING_HELP, CLI_DELIMITERS, CLI_QUOTECHARS
from imports.services.intake import CREATE_CANNOT_DEACTIVATE
from imports.services.profiles import ProfileError, profile_get
from user2smart.health import workers_listening


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
        parser.add_argument(
            "--profile",
            metavar="NAME",
            help="the company's import profile that reads the file (default: the 19-column format)",
        )
        parser.add_argument("--header", choices=["auto", "yes", "no"], default="auto")
        parser.add_argument("--delimiter", choices=list(CLI_DELIMITERS), default="auto")
        parser.add_argument("--quotechar", choices=list(CLI_QUOTECHARS), default="auto")
        parser.add_argument("--encoding", default="auto", help="auto, or e.g. utf-8, cp1252")
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument(
            "--no-wait", action="store_true", help="print the run id at once and return"
        )

    def handle(self, *args, **options) -> None:
        company = company_of(options["company"])
        path = Path(options["file"])
        if not path.is_file():
            raise cannot(f"{path} is not a file.")
        dry_run = options["dry_run"]
        if options["missing"] == Missing.DEACTIVATE and options["mode"] == Mode.CREATE:
            raise cannot(CREATE_CANNOT_DEACTIVATE)
        if options["allow_deactivations"] is not None and options["missing"] != Missing.DEACTIVATE:
            raise cannot("--allow-deactivations goes with --missing deactivate.")
        if not dry_run and not workers_listening():
            raise cannot(
                "No worker is running, so the import could not be applied. Start one with: "
                "celery -A user2smart worker (or preview with --dry-run)."
            )
        try:
            profile = profile_get(company=company, name=options["profile"])
        except ProfileError as exc:
            raise cannot(str(exc)) from None
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
                    profile=profile,
                )
        except (CsvFileError, ValueError) as exc:
            raise cannot(str(exc)) from None

        run_follow(
            self, run, plan_here=dry_run, no_wait=options["no_wait"], as_json=options["json"]
        )
