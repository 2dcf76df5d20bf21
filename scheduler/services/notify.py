"""Emails to a schedule's notification addresses: a fire that failed, a run with errors."""

from __future__ import annotations

import logging
import smtplib

from django.core.mail import send_mail

from imports.models import ImportRun
from scheduler.models import Schedule, ScheduleFire

log = logging.getLogger(__name__)


def notify_fire_failed(fire: ScheduleFire) -> None:
    schedule = fire.schedule
    when = f"{fire.local_time():%Y-%m-%d %H:%M %Z}"
    _send(
        schedule,
        f"User2Smart: the scheduled import {schedule} failed",
        [
            f"The scheduled import {schedule} of {when} did not run:",
            "",
            fire.reason,
            "",
            "Nothing was imported. Operators can fix the schedule in the User2Smart admin and "
            "use Run now.",
        ],
    )


def notify_run_ended(fire: ScheduleFire, run: ImportRun) -> None:
    """A run that has errors (X), or whose log could not be written: say so."""
    schedule = fire.schedule
    if run.result != "X" and not fire.finish_error:
        return
    when = f"{fire.local_time(run.created_at):%Y-%m-%d %H:%M %Z}"
    lines = [f"The scheduled import {schedule} of {when} (run {run.pk}) ended: {run.result}."]
    if run.rows_total:
        lines += [
            "",
            f"Rows: {run.rows_total}; created {run.count_create}, updated {run.count_update}, "
            f"unchanged {run.count_unchanged}; with errors: {run.rows_failed}, "
            f"not sent: {run.rows_skipped}.",
        ]
    if run.error:
        lines += ["", f"The run stopped: {run.error}"]
    if fire.log_path:
        lines += ["", f"The log is on the SFTP server: {fire.log_path}"]
    if fire.moved_to:
        lines += [f"The file was moved to {fire.moved_to}."]
    if fire.finish_error:
        lines += ["", f"After the run: {fire.finish_error}"]
    _send(schedule, f"User2Smart: the scheduled import {schedule} ended with errors (X)", lines)


def _send(schedule: Schedule, subject: str, lines: list[str]) -> None:
    recipients = schedule.notify_list
    if not recipients:
        log.warning("No notification address for %s: %s", schedule, subject)
        return
    try:
        send_mail(subject, "\n".join(lines) + "\n", None, recipients)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not email %s about %s", ", ".join(recipients), schedule)
