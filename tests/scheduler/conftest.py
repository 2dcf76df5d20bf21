"""Fixtures for schedules: Acme on the emulator, a folder on the test sshd, a schedule maker."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.utils import timezone

from scheduler import services, tasks
from scheduler.models import Schedule, ScheduleFire
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import ACME_ME_EMAIL
from tests.fixtures.sshd import SftpServer
from user2smart.companies.models import Company

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


def make_schedule(company: Company, **overrides: Any) -> Schedule:
    """A validated schedule saved through the service (so it has its beat entry)."""
    schedule = Schedule(company=company, **schedule_values(**overrides))
    schedule.full_clean()
    return services.schedule_save(schedule)


def beat_fire(schedule: Schedule) -> tuple[ScheduleFire, list[int]]:
    """Beat's fire for a schedule that has existed for days, run in this process.

    Returns the fire and the countdowns of the further attempts it asked for (not queued).
    """
    Schedule.objects.filter(pk=schedule.pk).update(runs_from=timezone.now() - timedelta(days=3))
    with patch.object(tasks.fire_attempt, "apply_async", autospec=True) as next_attempt:
        tasks.fire(schedule.pk)
    fire = ScheduleFire.objects.filter(schedule=schedule).latest("pk")
    return fire, countdowns_of(next_attempt)


def countdowns_of(apply_async: Any) -> list[int]:
    return [call.kwargs["countdown"] for call in apply_async.call_args_list]


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
