"""Fixtures for schedules: Acme on the emulator, a folder on the test sshd, a schedule maker."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock, patch

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone

from scheduler import services, tasks
from scheduler.models import Schedule, ScheduleFire
from scheduler.services import queue
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import ACME_ME_EMAIL
from tests.fixtures.sshd import SftpServer
from user2smart.companies.models import Company
from user2smart.dbclock import db_now

ROOT = Path(__file__).resolve().parents[2]
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
SAMPLES = SHARED_SAMPLES if SHARED_SAMPLES.exists() else ROOT / "tests" / "data" / "csv" / "samples"
NOTIFY = "ops@acme.example"

ScheduleMaker = Callable[..., Schedule]


def public_key_line() -> str:
    """A host key line of no server (for schedules that never connect)."""
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def schedule_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "nightly",
        "cron": "0 2 * * *",
        "timezone": "Europe/Paris",
        "run_as_email": ACME_ME_EMAIL,
        "notify_emails": NOTIFY,
        "sftp_host": "sftp.acme.example",
        "sftp_username": "hr",
        "sftp_password": "not-a-real-password",
        "host_key": public_key_line(),
        "file_path": "/in/users.csv",
        "log_dir": "/logs",
        "log_prefix": "users",
    }
    values.update(overrides)
    return values


def schedule_form_data(schedule: Schedule | None = None, **overrides: Any) -> dict[str, Any]:
    """What a schedule form posts for ``schedule`` (secrets left blank, as the page has them).

    A value of None leaves the field out of the post (an unticked box).
    """
    values = schedule_values(sftp_password="")
    if schedule is not None:
        values = {name: getattr(schedule, name) for name in values}
        values["sftp_password"] = ""
    data = {
        "mode": "upsert",
        "missing": "keep",
        "header": "auto",
        "delimiter": "auto",
        "quotechar": "auto",
        "encoding": "auto",
        "sftp_port": 22,
        "after_import": "leave",
        "connect_timeout": 15,
        "io_timeout": 60,
        "enabled": "on",
        **values,
        "sftp_private_key": "",
        **overrides,
    }
    return {name: value for name, value in data.items() if value is not None}


def make_schedule(company: Company, **overrides: Any) -> Schedule:
    """A validated schedule saved through the service (so it has its beat entry)."""
    schedule = Schedule(company=company, **schedule_values(**overrides))
    schedule.full_clean()
    return services.schedule_save(schedule)


def beat_fire(schedule: Schedule) -> ScheduleFire:
    """Beat's fire for a schedule that has existed for days, run in this process.

    A transient failure leaves the fire pending with its next attempt due at ``next_attempt_at``
    (the sweeper sends it); nothing is queued.
    """
    Schedule.objects.filter(pk=schedule.pk).update(runs_from=timezone.now() - timedelta(days=3))
    tasks.fire(schedule.pk)
    return ScheduleFire.objects.filter(schedule=schedule).latest("pk")


def seconds_until(moment: datetime) -> float:
    """How long from now on the database's clock until ``moment``."""
    return (moment - db_now()).total_seconds()


def overdue(fire: ScheduleFire) -> None:
    """Let the time pass until the fire's next attempt or wrap-up is due (a second ago)."""
    past = db_now() - timedelta(seconds=1)
    ScheduleFire.objects.filter(pk=fire.pk, next_attempt_at__isnull=False).update(
        next_attempt_at=past
    )
    ScheduleFire.objects.filter(pk=fire.pk, finish_next_at__isnull=False).update(
        finish_next_at=past
    )


@dataclass
class Sends:
    """The scheduler's messages (``scheduler.services.queue``), each recorded and run here."""

    attempts: MagicMock
    wrap_ups: MagicMock


@pytest.fixture
def sends() -> Iterator[Sends]:
    """Run what the scheduler sends at once in this process, as a worker would run it."""
    with (
        patch.object(
            queue, "fire_attempt_send", autospec=True, side_effect=tasks.fire_attempt
        ) as attempts,
        patch.object(queue, "wrap_up_send", autospec=True, side_effect=tasks.run_finished) as ends,
    ):
        yield Sends(attempts=attempts, wrap_ups=ends)


@pytest.fixture
def acme(emulator, db) -> Company:
    """Acme connected to the emulator; admin@acme.example is its active administrator."""
    return connect_acme(emulator)


@pytest.fixture
def sftp_folder(sftp_server: SftpServer) -> Path:
    """A fresh folder on the server with users.csv (the basic sample), logs/ and done/."""
    folder = sftp_server.folder()
    shutil.copy(SAMPLES / "users-basic.csv", folder / "users.csv")
    shutil.chown(folder / "users.csv", sftp_server.uid, sftp_server.gid)
    for name in ("logs", "done"):
        (folder / name).mkdir()
        shutil.chown(folder / name, sftp_server.uid, sftp_server.gid)
    return folder


@pytest.fixture
def sftp_schedule(acme: Company, sftp_server: SftpServer, sftp_folder: Path) -> ScheduleMaker:
    """Make a schedule of Acme that logs in to the test sshd with its password."""

    def make(**overrides: Any) -> Schedule:
        values = {
            "sftp_host": sftp_server.host,
            "sftp_port": sftp_server.port,
            "sftp_username": sftp_server.username,
            "sftp_password": sftp_server.password,
            "host_key": sftp_server.host_key,
            "file_path": f"{sftp_folder}/users.csv",
            "log_dir": f"{sftp_folder}/logs",
            "connect_timeout": 5,
            "io_timeout": 5,
            **overrides,
        }
        return make_schedule(acme, **values)

    return make
