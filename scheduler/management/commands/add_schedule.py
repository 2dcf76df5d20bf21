"""`manage.py add_schedule --company SLUG --name NAME ...`: create or update a schedule.

Prints what it did, never the password or the key. Options left out on an update keep their
stored values (the password or key too).
"""

from __future__ import annotations

from argparse import BooleanOptionalAction
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from imports.models import ImportProfile, Missing, Mode
from imports.options import CLI_DELIMITERS, CLI_QUOTECHARS, HEADER_CHOICES
from imports.profiles import STANDARD_NAME
from scheduler import services
from scheduler.cron import describe, next_runs
from scheduler.models import Schedule
from user2smart.companies.models import Company


class Command(BaseCommand):
    help = "Create or update a scheduled SFTP import (and its beat entry)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--company", required=True, help="the company's slug")
        parser.add_argument("--name", required=True, help="the schedule's name in the company")
        parser.add_argument("--cron", help='e.g. "30 6 * * 1-5" or "0 0 12 1/1 * ? *"')
        parser.add_argument("--timezone", help="IANA name, e.g. Europe/Paris (default: TIME_ZONE)")
        parser.add_argument("--mode", choices=Mode.values)
        parser.add_argument(
            "--missing",
            choices=Missing.values,
            help="active users with no row in the file: keep them (default) or deactivate them "
            "(full sync, within the company's deactivation limit)",
        )
        parser.add_argument(
            "--all-or-nothing",
            action=BooleanOptionalAction,
            help="apply only a file without errors (--no-all-or-nothing: each valid row)",
        )
        parser.add_argument(
            "--profile",
            help='the company\'s import profile that reads the file ("standard": the 19-column '
            "format)",
        )
        parser.add_argument("--run-as", help="email of a SmartRecruiters administrator")
        parser.add_argument("--host", help="SFTP host")
        parser.add_argument("--port", type=int, help="SFTP port (default 22)")
        parser.add_argument("--login", help="SFTP user name")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--password", help="SFTP password")
        secret.add_argument("--private-key", type=Path, help="file of a private key, no passphrase")
        parser.add_argument("--host-key", help='the server\'s pinned key, "TYPE BASE64"')
        parser.add_argument("--file", help="absolute path of the CSV file on the server")
        parser.add_argument("--log-dir", help="absolute path of the log folder on the server")
        parser.add_argument("--log-prefix", help="logs are named <prefix>-YYYYMMDD.csv")
        parser.add_argument("--move-to", help="move the processed file to this folder")
        parser.add_argument("--header", choices=[value for value, _ in HEADER_CHOICES])
        parser.add_argument("--delimiter", choices=list(CLI_DELIMITERS))
        parser.add_argument("--quotechar", choices=list(CLI_QUOTECHARS))
        parser.add_argument("--encoding", help="auto, or e.g. utf-8, windows-1252")
        parser.add_argument("--notify", help="emails to notify of failures, comma-separated")
        parser.add_argument(
            "--skip-unchanged",
            action=BooleanOptionalAction,
            help="do not import a file identical to the last one imported without errors",
        )
        parser.add_argument(
            "--enabled", action=BooleanOptionalAction, help="--no-enabled: create it disabled"
        )

    def handle(self, *args, **options) -> None:
        company = Company.objects.filter(slug=options["company"]).first()
        if company is None:
            raise CommandError(f"There is no company {options['company']!r}.")
        values = self._values(options)
        if options["profile"] is not None:
            values["profile"] = self._profile(company, options["profile"])
        try:
            saved = services.schedule_upsert(company=company, name=options["name"], values=values)
        except ValidationError as exc:
            raise CommandError(_explain(exc)) from None
        schedule = saved.schedule
        if saved.created:
            action = "Created"
        elif saved.changed:
            action = f"Updated ({', '.join(saved.changed)})"
        else:
            action = "Unchanged"
        self.stdout.write(f"{action}: schedule {schedule.pk} {schedule}")
        self.stdout.write(
            f"  {schedule.cron!r} in {schedule.timezone}: {describe(schedule.cron)}; "
            f"{'enabled' if schedule.enabled else 'disabled'}"
        )
        if schedule.enabled:
            upcoming = ", ".join(
                f"{run:%Y-%m-%d %H:%M %Z}" for run in next_runs(schedule.cron, schedule.timezone, 3)
            )
            self.stdout.write(f"  next runs: {upcoming}")
        self.stdout.write(
            f"  mode {schedule.mode}"
            f"{f'; profile {schedule.profile.name}' if schedule.profile else ''}; people missing "
            "from the file: "
            f"{schedule.get_missing_display().lower()}"
            f"{'; all or nothing' if schedule.all_or_nothing else ''}"
        )
        login = "private key" if schedule.sftp_private_key else "password"
        self.stdout.write(
            f"  sftp://{schedule.sftp_username}@{schedule.sftp_host}:{schedule.sftp_port}"
            f"{schedule.file_path} (login with a {login}); logs in {schedule.log_dir} as "
            f"{schedule.log_prefix}-YYYYMMDD.csv"
        )

    def _profile(self, company: Company, name: str) -> ImportProfile | None:
        if name.strip().lower() == STANDARD_NAME:
            return None
        profile = company.import_profiles.filter(name__iexact=name.strip()).first()
        if profile is None:
            names = ", ".join(company.import_profiles.values_list("name", flat=True)) or "none"
            raise CommandError(
                f'{company} has no import profile "{name}" (its profiles: {names}). Save it '
                "first with manage.py import_profile."
            )
        return profile

    def _values(self, options: dict) -> dict[str, object]:
        mapping = {
            "cron": "cron",
            "timezone": "timezone",
            "mode": "mode",
            "missing": "missing",
            "all_or_nothing": "all_or_nothing",
            "run_as": "run_as_email",
            "host": "sftp_host",
            "port": "sftp_port",
            "login": "sftp_username",
            "password": "sftp_password",
            "host_key": "host_key",
            "file": "file_path",
            "log_dir": "log_dir",
            "log_prefix": "log_prefix",
            "header": "header",
            "encoding": "encoding",
            "notify": "notify_emails",
            "skip_unchanged": "skip_unchanged",
            "enabled": "enabled",
        }
        values: dict[str, object] = {
            field: options[option]
            for option, field in mapping.items()
            if options[option] is not None
        }
        if options["delimiter"] is not None:
            values["delimiter"] = CLI_DELIMITERS[options["delimiter"]]
        if options["quotechar"] is not None:
            values["quotechar"] = CLI_QUOTECHARS[options["quotechar"]]
        if options["private_key"] is not None:
            try:
                values["sftp_private_key"] = options["private_key"].read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"The private key file cannot be read: {exc}") from None
        if options["move_to"] is not None:
            values["after_import"] = Schedule.AfterImport.MOVE
            values["move_to"] = options["move_to"]
        return values


def _explain(error: ValidationError) -> str:
    lines = ["The schedule was not saved:"]
    for field, messages in error.message_dict.items():
        label = field if field == "__all__" else Schedule._meta.get_field(field).verbose_name
        lines += [f"  {label}: {message}" for message in messages]
    return "\n".join(lines)
