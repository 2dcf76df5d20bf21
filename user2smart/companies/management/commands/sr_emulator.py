"""`manage.py sr_emulator --host 127.0.0.1 --port 8900 [--state FILE]`: the SR emulator.

A thin adapter: the same server and options as `python -m user2smart.smartrecruiters.emulator`.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from user2smart.smartrecruiters.emulator.cli import add_arguments, serve


class Command(BaseCommand):
    help = "Run the SmartRecruiters User API emulator (docs/emulator.md) until stopped."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        add_arguments(parser)

    def handle(self, *args, **options) -> None:
        try:
            serve(options, announce=self._announce)
        except (ValueError, OSError) as exc:
            raise CommandError(f"The emulator cannot start: {exc}") from exc

    def _announce(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()
