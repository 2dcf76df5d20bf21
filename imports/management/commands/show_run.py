"""`manage.py show_run RUN_ID [--json]`: a run as `import_users` prints it, and its exit code.

Exit codes (`imports/management/runoutput.py`): 0 every row is fine (or the run is still going
with no error so far), 1 some rows have errors, 2 nothing was imported, or there is no such run.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from imports.management.runoutput import run_of, run_report


class Command(BaseCommand):
    help = "Show an import run: its status, counts and the rows with errors (or every row)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, metavar="RUN_ID", help="the run's number")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options) -> None:
        run = run_of(options["run_id"])
        code = run_report(self, run, as_json=options["json"])
        if code:
            sys.exit(code)
