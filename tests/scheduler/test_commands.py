"""`manage.py add_schedule` and `manage.py run_schedule`."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from scheduler.models import Schedule
from tests.fixtures.sshd import SftpServer
from tests.imports.runs.conftest import run_command
from tests.scheduler.conftest import public_key_line

PASSWORD = "s3cret-Passw0rd"
HOST_KEY = public_key_line()


def add_schedule(*args: str) -> str:
    out = io.StringIO()
    call_command("add_schedule", *args, stdout=out)
    return out.getvalue()


def required(**overrides: str) -> list[str]:
    options = {
        "--company": "acme",
        "--name": "nightly",
        "--cron": "0 0 2 1/1 * ? *",
        "--timezone": "Europe/Paris",
        "--mode": "upsert",
        "--run-as": "admin@acme.example",
        "--host": "sftp.acme.example",
        "--login": "hr",
        "--host-key": HOST_KEY,
        "--file": "/in/users.csv",
        "--log-dir": "/logs",
        "--log-prefix": "users",
        **overrides,
    }
    return [item for pair in options.items() for item in pair]


def test_add_schedule_creates_a_schedule_and_never_prints_the_password(acme) -> None:
    out = add_schedule(
        *required(), "--password", PASSWORD, "--delimiter", ";", "--notify", "a@x.example"
    )

    schedule = Schedule.objects.get()
    assert out.startswith(f"Created: schedule {schedule.pk} Acme Demo / nightly\n")
    assert "'0 0 2 1/1 * ? *' in Europe/Paris: At 02:00; enabled" in out
    assert "next runs: " in out
    assert "login with a password" in out
    assert PASSWORD not in out
    assert (schedule.sftp_password, schedule.delimiter, schedule.quotechar) == (
        PASSWORD,
        ";",
        "auto",
    )
    assert schedule.notify_list == ["a@x.example"]
    assert PeriodicTask.objects.get() == schedule.periodic_task


def test_add_schedule_updates_and_keeps_the_stored_password(acme) -> None:
    add_schedule(*required(), "--password", PASSWORD)

    out = add_schedule(*required(**{"--cron": "30 6 * * 1-5"}), "--no-enabled")

    schedule = Schedule.objects.get()
    assert out.startswith("Updated (cron expression, enabled): schedule")
    assert (schedule.cron, schedule.enabled, schedule.sftp_password) == (
        "30 6 * * 1-5",
        False,
        PASSWORD,
    )
    assert not PeriodicTask.objects.get().enabled


def test_add_schedule_reads_the_private_key_from_a_file(
    acme, sftp_server: SftpServer, tmp_path: Path
) -> None:
    add_schedule(*required(), "--password", PASSWORD)
    key_file = tmp_path / "id_ed25519"
    key_file.write_text(sftp_server.private_keys["ed25519"])

    out = add_schedule(*required(), "--private-key", str(key_file), "--move-to", "/in/done")

    schedule = Schedule.objects.get()
    assert "login with a private key" in out
    assert "PRIVATE KEY" not in out
    assert schedule.sftp_password == ""
    assert schedule.sftp_private_key == sftp_server.private_keys["ed25519"]
    assert (schedule.after_import, schedule.move_to) == ("move", "/in/done")


def test_add_schedule_refuses_a_bad_expression_and_says_why(acme) -> None:
    with pytest.raises(CommandError) as refused:
        add_schedule(*required(**{"--cron": "0 0 12 L * ?"}), "--password", PASSWORD)

    assert str(refused.value) == (
        'The schedule was not saved:\n  cron expression: The day-of-month field is "L": '
        '"the last day of the month" (L) cannot be scheduled here.'
    )
    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.exists()


def test_a_new_schedule_needs_a_password_or_a_key(acme) -> None:
    with pytest.raises(CommandError, match="password: Give the SFTP password or a private key"):
        add_schedule(*required())


def test_add_schedule_needs_a_known_company(db) -> None:
    with pytest.raises(CommandError, match="There is no company 'nope'"):
        add_schedule(*required(**{"--company": "nope"}), "--password", PASSWORD)


@pytest.mark.integration
def test_run_schedule_imports_the_file_and_prints_where_the_log_is(
    acme, emulator, sftp_schedule, sftp_folder: Path, celery_worker
) -> None:
    sftp_schedule(timezone="UTC")

    code, out, err = run_command("run_schedule", "nightly", "--company", "acme", "--json")

    assert out.strip(), err
    document = json.loads(out)
    assert code == 0, (document, celery_worker.output())
    assert (document["result"], document["status"]) == ("V", "finished")
    assert document["counts"] == {
        "create": 4,
        "update": 2,
        "unchanged": 1,
        "error": 0,
        "deactivate": 0,
    }
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert document["log_file"] == f"{sftp_folder}/logs/users-{today}.csv"
    assert "Nadia" in Path(document["log_file"]).read_text(encoding="utf-8-sig")
    assert emulator.user("new.hire1@acme.example")["firstName"] == "Nadia"


@pytest.mark.integration
def test_run_schedule_says_why_nothing_was_imported(
    acme, emulator, sftp_schedule, sftp_folder: Path, celery_worker
) -> None:
    sftp_schedule(file_path=f"{sftp_folder}/missing.csv")

    code, out, err = run_command("run_schedule", "nightly", "--company", "acme", "--json")

    assert out.strip(), err
    document = json.loads(out)
    assert code == 2, err
    assert (document["result"], document["status"], document["log_file"]) == ("X", "failed", None)
    assert document["error"].startswith(f"{sftp_folder}/missing.csv does not exist on")
