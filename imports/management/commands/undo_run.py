"""`manage.py undo_run RUN_ID`: put back what an import changed in SmartRecruiters.

The undo is a run of its own (source undo), planned against the directory as it is now: fields
changed since the import are left alone and reported, unless `--force`. With `--dry-run` it is
planned only (a preview to apply from its page). Output and exit codes as `import_users`: 2
when the run cannot be undone (the message says why).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from imports.management.runoutput import cannot, run_follow, run_of
from imports.services.undo import UndoRefused, undo_start
from user2smart.health import workers_listening


class Command(BaseCommand):
    help = "Undo an import: put back what it changed in SmartRecruiters (preview: --dry-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run_id", type=int, help="the import to undo (its number)")
        parser.add_argument("--dry-run", action="store_true", help="plan only, change nothing")
        parser.add_argument(
            "--email",
            action="append",
            default=[],
            metavar="EMAIL",
            help="undo only what the import did to this person (repeat for several)",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="also put back fields changed in SmartRecruiters since the import",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON document")
        parser.add_argument(
            "--no-wait", action="store_true", help="print the undo's run id at once and return"
        )

    def handle(self, *args, **options) -> None:
        run = run_of(options["run_id"])
        dry_run = options["dry_run"]
        if not dry_run and not workers_listening():
            raise cannot(
                "No worker is running, so the undo could not be applied. Start one with: "
                "celery -A user2smart worker (or preview with --dry-run)."
            )
        try:
            undo = undo_start(
                run=run,
                emails=options["email"],
                force=options["force"],
                dry_run=dry_run,
                enqueue=not dry_run,
            )
        except UndoRefused as exc:
            raise cannot(str(exc)) from None

        run_follow(
            self, undo, plan_here=dry_run, no_wait=options["no_wait"], as_json=options["json"]
        )
