"""Emails to a schedule's notification addresses: a fire that failed, a run with errors, a run
that held its deactivations (full sync)."""

from __future__ import annotations

import logging
import smtplib

from django.core.mail import send_mail

from imports.models import ImportRun, Missing
from imports.selectors import run_done_by_action
from imports.services.planning import held_message
from imports.totals import done_words, run_totals, totals_words
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


def notify_run_ended(fire: ScheduleFire, run: ImportRun, *, held: bool = False) -> None:
    """A run that has errors (X), or whose log could not be written: say so. ``held``: the
    run held its deactivations and this is the wrap-up that tells (once per run)."""
    schedule = fire.schedule
    if held:
        _send(
            schedule, _held_subject(schedule, run), _held_lines(fire, run) + _ended_lines(fire, run)
        )
        return
    if run.result != "X" and not fire.finish_error:
        return
    when = f"{fire.local_time(run.created_at):%Y-%m-%d %H:%M %Z}"
    lines = [f"The scheduled import {schedule} of {when} (run {run.pk}) ended: {run.result}."]
    lines += _ended_lines(fire, run)
    _send(schedule, f"User2Smart: the scheduled import {schedule} ended with errors (X)", lines)


def _held_subject(schedule: Schedule, run: ImportRun) -> str:
    people = "1 deactivation" if run.held == 1 else f"{run.held} deactivations"
    return (
        f"User2Smart: {schedule.company} / {schedule.name}: {people} held, nothing was deactivated"
    )


def _held_lines(fire: ScheduleFire, run: ImportRun) -> list[str]:
    schedule = fire.schedule
    when = f"{fire.local_time(run.created_at):%Y-%m-%d %H:%M %Z}"
    return [
        f"The scheduled import {schedule.name} of {schedule.company} ({when}, run {run.pk}) "
        "deactivates the people missing from its file.",
        "",
        held_message(missing=run.held, limit=run.deactivation_limit or 0),
        "",
        f"The rest of the file was imported as usual. An administrator of {schedule.company} "
        f"should check the file ({schedule.file_path} on {schedule.sftp_host}): if these "
        f"people have left, open run {run.pk} in User2Smart's import history and press "
        "Allow these deactivations. Until then they stay active, and the next run of the "
        "schedule holds them again if they are still missing.",
    ]


def _ended_lines(fire: ScheduleFire, run: ImportRun) -> list[str]:
    """What the run did and where its log went."""
    lines: list[str] = []
    if run.rows_total:
        done = done_words(run_done_by_action(run), full_sync=run.missing == Missing.DEACTIVATE)
        lines += [
            "",
            f"Rows: {totals_words(run_totals(run))}.",
            f"Done: {done}{_missing_words(run)}.",
        ]
    if run.error:
        lines += ["", f"The run stopped: {run.error}"]
    if fire.log_path:
        lines += ["", f"The log is on the SFTP server: {fire.log_path}"]
    if fire.moved_to:
        lines += [f"The file was moved to {fire.moved_to}."]
    if fire.finish_error:
        lines += ["", f"After the run: {fire.finish_error}"]
    return lines


def _missing_words(run: ImportRun) -> str:
    if not run.count_deactivate:
        return ""
    held = " (held: none was deactivated)" if run.held else ""
    return f"; missing from the file: {run.count_deactivate}{held}"


def _send(schedule: Schedule, subject: str, lines: list[str]) -> None:
    recipients = schedule.notify_list
    if not recipients:
        log.warning("No notification address for %s: %s", schedule, subject)
        return
    try:
        send_mail(subject, "\n".join(lines) + "\n", None, recipients)
    except (OSError, smtplib.SMTPException):
        log.exception("Could not email %s about %s", ", ".join(recipients), schedule)
