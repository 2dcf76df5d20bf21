"""`manage.py cancel_run RUN_ID [--json]`: cancel a running import (a preview is discarded).

Rows already sent stay as they are; the others are not sent. Prints the run as `show_run` does.
Exit codes (`imports/management/runoutput.py`): 2 when the run cannot be cancelled (there is no
such run, or it has ended), otherwise the run's own, as `show_run` gives it (1 when rows were
left unsent, as they then are).
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandParser

from imports import services
from imports.management.runoutput import cannot, run_of, run_report


class Command(BaseCommand):
    help = "Cancel an import run: rows already sent stay as they are, the others are not sent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, metavar="RUN_ID", help="the run's number")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options) -> None:
        run = run_of(options["run_id"])
        if not services.run_cancel(run_id=run.pk):
            run.refresh_from_db()
            why = services.run_cancel_refusal(run=run) or "it is no longer running."
            raise cannot(f"Run {run.pk} cannot be cancelled: {why}")
        code = run_report(self, run, as_json=options["json"])
        if code:
            sys.exit(code)
