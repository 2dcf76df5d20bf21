"""`manage.py run_schedule NAME --company SLUG [--json]`: fire a schedule now and wait.

The fire is the admin's Run now: a worker fetches the file, the run imports it, the log is
written back to the SFTP server. Prints the document of `import_users --json` plus
``"log_file"`` (the log's path on the server) and ``"fire"``.

Exit codes, as import_users (`imports/management/runoutput.py`): 0 every row is fine, 1 some
rows have errors, 2 nothing was imported (the fire failed or was skipped, the file failed, no such
schedule, no worker).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from imports.management.runoutput import cannot, write_json
from imports.selectors import exit_code, run_document
from scheduler import services
from scheduler.models import Schedule, ScheduleFire
from user2smart.health import workers_listening

POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = "Fire a schedule now: fetch its file, import it, write the log back; wait for the end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the schedule's name")
        parser.add_argument("--company", required=True, help="the company's slug")
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args, **options) -> None:
        schedule = (
            Schedule.objects.select_related("company")
            .filter(company__slug=options["company"], name=options["name"])
            .first()
        )
        if schedule is None:
            raise cannot(
                f"There is no schedule {options['name']!r} in the company {options['company']!r}."
            )
        if not workers_listening():
            raise cannot(
                "No worker is running, so the schedule cannot run. Start one with: "
                "celery -A user2smart worker"
            )
        fire = services.schedule_run_now(schedule=schedule)
        if fire is None:
            raise cannot(f"{schedule} was fired at this very moment already: try again.")
        while not fire.is_finished:
            time.sleep(POLL_SECONDS)
            fire.refresh_from_db()
        document, code = _document(fire)
        if options["json"]:
            write_json(self, document)
        else:
            self._summary(fire, document)
        if code:
            sys.exit(code)

    def _summary(self, fire: ScheduleFire, document: dict[str, Any]) -> None:
        write = self.stdout.write
        if fire.run is None:
            write(f"{fire.schedule}: {fire.get_outcome_display()}: {fire.reason}")
            return
        write(
            f"{fire.schedule}: run {fire.run.pk}, {fire.run.get_status_display()}: "
            f"{document['result']}"
        )
        counts = document.get("counts")
        if counts:
            write(
                f"  {counts['create']} to create, {counts['update']} to update, "
                f"{counts['unchanged']} unchanged, {counts['error']} with errors"
            )
        if fire.run.error:
            write(f"  Stopped: {fire.run.error}")
        write(f"  Log: {fire.log_path or 'not written'}")
        if fire.finish_error:
            write(f"  After the run: {fire.finish_error}")


def _document(fire: ScheduleFire) -> tuple[dict[str, Any], int]:
    if fire.run is None:
        document = {
            "result": "X" if fire.outcome == ScheduleFire.Outcome.FAILED else "",
            "status": fire.outcome,
            "error": fire.reason,
            "fire": fire.pk,
            "log_file": None,
        }
        return document, 2
    document = run_document(fire.run)
    document["fire"] = fire.pk
    document["log_file"] = fire.log_path or None
    if fire.finish_error:
        document["log_error"] = fire.finish_error
    return document, exit_code(fire.run, document)
