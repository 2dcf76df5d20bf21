"""How schedules read on the admin and on the company admins' Schedules page.

Words and figures from a schedule and its fires, what "Run now" and "Enable" say, and the
answer to "Fetch the host key": shared by both, so that they say the same thing.
"""

from __future__ import annotations

import posixpath
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from scheduler import services
from scheduler.cron import CronError, describe, next_runs
from scheduler.forms import HostKeyFetchForm
from scheduler.models import Schedule, ScheduleFire
from scheduler.sftp import SftpError, SftpSettingsError, parse_host_keys

TIME_FORMAT = "%Y-%m-%d %H:%M %Z"
NO_KEY_ENABLED = (
    '{count} schedule(s) not enabled: no host key is pinned (edit the schedule: "Fetch the host '
    'key" shows it).'
)
NOT_ENABLED_NO_KEY = (
    'Schedule "{name}" was not enabled: no host key is pinned. Edit it: "Fetch the host key" '
    "shows the server's key, to check and pin."
)
# The file name of a host key type on the server, for `ssh-keygen -lf`.
KEY_FILES = {"ssh-ed25519": "ed25519", "ssh-rsa": "rsa"}


def cron_in_words(schedule: Schedule) -> str:
    """ "At 02:00 (Europe/Paris)", or what is wrong with the expression."""
    if not schedule.cron:
        return "-"
    try:
        return f"{describe(schedule.cron)} ({schedule.timezone})"
    except CronError as exc:
        return str(exc)


def upcoming(schedule: Schedule, count: int) -> list[datetime]:
    """The next ``count`` run times on the schedule's clock ([] when the expression is wrong)."""
    if not schedule.cron:
        return []
    try:
        return next_runs(schedule.cron, schedule.timezone, count)
    except CronError:
        return []


def fire_result(fire: ScheduleFire) -> str:
    """V, X, "running"... for a fire: its run's result, or why there is none."""
    Outcome = ScheduleFire.Outcome
    if fire.outcome == Outcome.STARTED:
        if fire.run is None:
            return "run deleted"
        return fire.run.result or "running"
    if fire.outcome == Outcome.FAILED:
        return "X (failed before the import)"
    return fire.get_outcome_display().lower()


def log_name(fire: ScheduleFire) -> str:
    """The name of the log file the fire wrote on the server ("" before it is written)."""
    return posixpath.basename(fire.log_path) if fire.log_path else ""


def pinned_fingerprints(schedule: Schedule) -> str:
    if not schedule.host_key.strip():
        return "none pinned"
    try:
        keys = parse_host_keys(schedule.host_key)
    except SftpSettingsError as exc:
        return str(exc)
    return ", ".join(f"{key.get_name()} {key.fingerprint}" for key in keys)


def run_now_words(schedule: Schedule, fire: ScheduleFire | None) -> tuple[bool, str]:
    """What "Run now" did (the fire ``schedule_run_now`` returned): (started, message)."""
    if fire is None:
        return False, f"{schedule}: already fired just now."
    if fire.outcome == ScheduleFire.Outcome.SKIPPED:
        return False, f"{schedule}: {fire.reason}"
    return True, (
        f"{schedule}: fetching the file from {schedule.sftp_host}; the run appears in the "
        "history when it starts."
    )


def host_key_fragment(
    request: HttpRequest, *, form_class: type[HostKeyFetchForm] = HostKeyFetchForm
) -> HttpResponse:
    """Answer "Fetch the host key": the key and fingerprint the server presents, or why not."""
    form = form_class(request.POST)
    context: dict[str, object] = {}
    if not form.is_valid():
        context["error"] = " ".join(
            str(error) for errors in form.errors.values() for error in errors
        )
    else:
        host = form.cleaned_data["sftp_host"]
        port = form.cleaned_data["sftp_port"]
        try:
            key = services.host_key_fetch(
                host=host, port=port, timeout=float(form.cleaned_data["connect_timeout"])
            )
        except SftpError as exc:
            context["error"] = str(exc)
        else:
            key_file = KEY_FILES.get(key.key_type, "ecdsa")
            context.update(key=key, where=f"{host}:{port}", key_file=key_file)
    return render(request, "scheduler/_host_key.html", context)
