"""`manage.py retry_run RUN_ID [--json] [--no-wait]`: send again the rows of an ended run that
failed for a passing reason (SmartRecruiters did not answer, the run was stopped or cancelled),
as "Retry failed rows" does; then wait for the end and print the run as `import_users` does.

Exit codes (`imports/management/runoutput.py`): 0 every row is fine now, 1 some rows still have
errors, 2 nothing was retried (no such run, a run not ended, no row to retry, no worker).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from imports import services
from imports.management.runoutput import cannot, run_follow, run_of
from user2smart.health import workers_listening


class Command(BaseCommand):
    help = "Send again the rows of an ended import run that failed for a passing reason."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, metavar="RUN_ID", help="the run's number")
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument(
            "--no-wait", action="store_true", help="print the run id at once and return"
        )

    def handle(self, *args, **options) -> None:
        run = run_of(options["run_id"])
        why = services.run_retry_refusal(run=run)
        if why:
            raise cannot(f"Run {run.pk} cannot be retried: {why}")
        if not workers_listening():
            raise cannot(
                "No worker is running, so the rows could not be sent again. Start one with: "
                "celery -A user2smart worker."
            )
        count = services.run_retry_failed(run_id=run.pk)
        if not count:  # someone else retried them meanwhile
            run.refresh_from_db()
            why = services.run_retry_refusal(run=run) or "its rows are being sent again already."
            raise cannot(f"Run {run.pk} cannot be retried: {why}")
        if not options["json"] and not options["no_wait"]:
            self.stdout.write(f"Run {run.pk}: {count} row{'s' if count != 1 else ''} sent again.")
        run_follow(self, run, plan_here=False, no_wait=options["no_wait"], as_json=options["json"])
