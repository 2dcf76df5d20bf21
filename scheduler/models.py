"""Scheduled SFTP imports: a Schedule, and one ScheduleFire per scheduled time it fired for.

The validators below are shared by the admin's form and ``manage.py add_schedule`` (through
``Model.full_clean``); each message says what to fix.
"""

from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils.timezone import now
from django_celery_beat.models import PeriodicTask

from imports.csvfile import CsvFileError
from imports.models import ImportProfile, ImportRun, Missing, Mode
from imports.options import (
    ALL_OR_NOTHING_HELP,
    ALL_OR_NOTHING_LABEL,
    DELIMITER_CHOICES,
    HEADER_CHOICES,
    QUOTECHAR_CHOICES,
)
from imports.services.intake import CREATE_CANNOT_DEACTIVATE, clean_options
from scheduler.cron import CronError, get_zone, parse_cron
from scheduler.sftp import SftpSettings, SftpSettingsError, load_private_key, parse_host_keys
from user2smart.companies.encryption import EncryptedTextField
from user2smart.companies.models import Company

LOG_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def validate_cron(value: str) -> None:
    try:
        parse_cron(value)
    except CronError as exc:
        raise ValidationError(str(exc)) from None


def validate_timezone(value: str) -> None:
    try:
        get_zone(value)
    except CronError as exc:
        raise ValidationError(str(exc)) from None


def validate_host_keys(value: str) -> None:
    """Blank is allowed here (a disabled schedule may wait for its key); see Schedule.clean."""
    if not value.strip():
        return
    try:
        parse_host_keys(value)
    except SftpSettingsError as exc:
        raise ValidationError(str(exc)) from None


def validate_private_key(value: str) -> None:
    if not value.strip():
        return
    try:
        load_private_key(value)
    except SftpSettingsError as exc:
        raise ValidationError(str(exc)) from None


def validate_absolute_path(value: str) -> None:
    if not value.startswith("/"):
        raise ValidationError(
            f'"{value}" is not an absolute path: give the full path on the server, starting with /.'
        )


def validate_log_prefix(value: str) -> None:
    if not LOG_PREFIX.match(value):
        raise ValidationError(
            "Use letters, digits, dots, dashes and underscores (no / or spaces), e.g. users-log."
        )


def default_timezone() -> str:
    return settings.TIME_ZONE


def split_emails(text: str) -> list[str]:
    """The addresses in a comma-, semicolon- or line-separated list."""
    return [item.strip() for item in re.split(r"[,;\s]+", text or "") if item.strip()]


def validate_email_list(value: str) -> None:
    for address in split_emails(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f'"{address}" is not an email address.') from None


class Schedule(models.Model):
    """An import of a company's HR file from its SFTP server, on a cron expression."""

    class AfterImport(models.TextChoices):
        LEAVE = "leave", "Leave the file where it is"
        MOVE = "move", "Move the file to a folder"

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="schedules")
    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)

    cron = models.CharField(
        "cron expression",
        max_length=120,
        validators=[validate_cron],
        help_text="Unix (30 6 * * 1-5) or Quartz (0 0 12 1/1 * ? *), as a cron generator "
        "writes it.",
    )
    timezone = models.CharField(
        max_length=64,
        default=default_timezone,
        validators=[validate_timezone],
        help_text="IANA name, e.g. Europe/Paris or UTC. The expression is read on its clock.",
    )
    run_as_email = models.EmailField(
        "run as",
        help_text="Email of an active SmartRecruiters administrator of the company, checked "
        "at every run.",
    )
    notify_emails = models.TextField(
        "notify",
        blank=True,
        default="",
        validators=[validate_email_list],
        help_text="Who is emailed when a run fails, has errors or holds deactivations (comma or "
        "line separated).",
    )

    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.UPSERT)
    profile = models.ForeignKey(
        ImportProfile,
        verbose_name="import profile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="schedules",
        help_text="How the file's columns are read: one of the company's import profiles, or "
        "empty for the 19-column format.",
    )
    missing = models.CharField(
        "people missing from the file",
        max_length=10,
        choices=Missing.choices,
        default=Missing.KEEP,
        help_text="Deactivate them: every active user with no row in the file is deactivated "
        "(full sync). Above the company's deactivation limit none is: they are held, and the "
        "notify addresses are emailed. Not with the Create mode.",
    )
    all_or_nothing = models.BooleanField(
        ALL_OR_NOTHING_LABEL.lower(),
        default=False,
        help_text=ALL_OR_NOTHING_HELP + " The log says why, and the notify addresses are emailed.",
    )
    header = models.CharField(
        "header present", max_length=5, choices=HEADER_CHOICES, default="auto"
    )
    delimiter = models.CharField(max_length=5, choices=DELIMITER_CHOICES, default="auto")
    quotechar = models.CharField(
        "quotation character", max_length=5, choices=QUOTECHAR_CHOICES, default="auto"
    )
    encoding = models.CharField(
        max_length=40, default="auto", help_text="auto (detect), or e.g. utf-8, windows-1252."
    )

    sftp_host = models.CharField("SFTP host", max_length=255)
    sftp_port = models.PositiveIntegerField(
        "port", default=22, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    sftp_username = models.CharField("login", max_length=150)
    sftp_password = EncryptedTextField("password", blank=True, default="")
    sftp_private_key = EncryptedTextField(
        "private key", blank=True, default="", validators=[validate_private_key]
    )
    host_key = models.TextField(
        "pinned host key",
        blank=True,
        default="",
        validators=[validate_host_keys],
        help_text='The server\'s public host key, "TYPE BASE64" (several lines allowed). Test '
        "connection shows it; check its fingerprint with the server's administrator.",
    )
    file_path = models.CharField(
        max_length=1024,
        validators=[validate_absolute_path],
        help_text="Absolute path of the CSV file on the server, e.g. /in/users.csv.",
    )
    log_dir = models.CharField(
        "log directory",
        max_length=1024,
        validators=[validate_absolute_path],
        help_text="Folder where the log is written as PREFIX-YYYYMMDD.csv (the log prefix).",
    )
    log_prefix = models.CharField(max_length=100, validators=[validate_log_prefix])
    after_import = models.CharField(
        max_length=5, choices=AfterImport.choices, default=AfterImport.LEAVE
    )
    move_to = models.CharField(
        "move to folder",
        max_length=1024,
        blank=True,
        default="",
        validators=[validate_absolute_path],
        help_text="Where the processed file goes (never overwriting: name-2.csv...).",
    )
    skip_unchanged = models.BooleanField(
        "skip an unchanged file",
        default=False,
        help_text="Do not import a file identical (SHA-256) to the one of the last run without "
        "errors. Run now always imports.",
    )
    connect_timeout = models.PositiveSmallIntegerField(
        "connect timeout (s)",
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(300)],
        help_text="To connect, receive the SSH greeting, log in and open SFTP.",
    )
    io_timeout = models.PositiveSmallIntegerField(
        "read/write timeout (s)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text="For each SFTP request.",
    )

    periodic_task = models.OneToOneField(
        PeriodicTask,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="import_schedule",
    )
    runs_from = models.DateTimeField(
        default=now,
        editable=False,
        help_text="Fires scheduled before this moment are not run: set when the expression, "
        "the timezone or the enabled state changes, so an edit never fires a past time.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["company__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="schedule_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.company} / {self.name}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.after_import == self.AfterImport.MOVE and not self.move_to:
            errors["move_to"] = ["Give the folder the processed file is moved to."]
        if self.enabled and not self.host_key.strip():
            errors["host_key"] = [
                'Pin the server\'s host key before enabling the schedule: "Fetch the host key" '
                "shows it (check its fingerprint with the server's administrator). Or untick "
                "Enabled to save the schedule now, and pin the key and enable it later."
            ]
        if not (self.sftp_password or self.sftp_private_key):
            errors["sftp_password"] = ["Give the SFTP password or a private key for the login."]
        if self.missing == Missing.DEACTIVATE and self.mode == Mode.CREATE:
            errors["missing"] = [CREATE_CANNOT_DEACTIVATE]
        if self.profile is not None and self.profile.company_id != self.company_id:
            errors["profile"] = ["Choose an import profile of the schedule's company."]
        try:
            clean_options(self.csv_options)
        except (CsvFileError, ValueError) as exc:
            errors["encoding"] = [str(exc)]
        if errors:
            raise ValidationError(errors)

    @property
    def csv_options(self) -> dict[str, str]:
        return {
            "header": self.header,
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "encoding": self.encoding.strip() or "auto",
        }

    @property
    def notify_list(self) -> list[str]:
        return split_emails(self.notify_emails)

    def sftp_settings(self) -> SftpSettings:
        return SftpSettings(
            host=self.sftp_host,
            port=self.sftp_port,
            username=self.sftp_username,
            password=self.sftp_password,
            private_key=self.sftp_private_key,
            host_key=self.host_key,
            connect_timeout=float(self.connect_timeout),
            io_timeout=float(self.io_timeout),
        )


class ScheduleFire(models.Model):
    """One scheduled time of a schedule: claimed once, then started, skipped or failed.

    The unique (schedule, scheduled_for) row is the claim: a second fire of beat for the same
    time (a duplicate, a catch-up after downtime) finds it and does nothing.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Fetching the file"
        STARTED = "started", "Run started"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="fires")
    scheduled_for = models.DateTimeField(
        help_text="The run time this fire belongs to (for Run now: when it was asked)."
    )
    manual = models.BooleanField(default=False, help_text="Run now or run_schedule.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While fetching: when the scheduler's sweeper makes the next attempt (after a "
        "retry's wait, or once an attempt in progress is overdue: its worker was lost).",
    )
    run = models.OneToOneField(
        ImportRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="schedule_fire",
    )
    file_modified = models.DateTimeField(null=True, blank=True)

    # After the run: the log written back, the file moved, the notification sent.
    log_path = models.CharField(max_length=1024, blank=True, default="")
    moved_to = models.CharField(max_length=1024, blank=True, default="")
    finish_attempts = models.PositiveSmallIntegerField(default=0)
    finish_next_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the sweeper makes the next after-run attempt (a retry, or an overdue one).",
    )
    finish_error = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)
    held_notified_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the notify addresses were emailed that the run held its deactivations "
        "(once per run, even when it is wrapped up again).",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "scheduled_for"], name="fire_unique_scheduled_time"
            ),
        ]
        indexes = [
            models.Index(fields=["schedule", "outcome"], name="fire_schedule_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} at {self.scheduled_for:%Y-%m-%d %H:%M} ({self.outcome})"

    @property
    def is_finished(self) -> bool:
        """Nothing is left to do for this fire (and, when it started a run, after it)."""
        if self.outcome == self.Outcome.PENDING:
            return False
        return self.outcome != self.Outcome.STARTED or self.finished_at is not None

    def local_time(self, moment: datetime | None = None) -> datetime:
        """``moment`` (default: the scheduled time) on the schedule's clock."""
        return (moment or self.scheduled_for).astimezone(get_zone(self.schedule.timezone))
