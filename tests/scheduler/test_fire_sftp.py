"""A fire against a real OpenSSH sshd and the SmartRecruiters emulator, run in this process.

The task ``scheduler.fire`` is called as beat's message would call it. A transient failure
leaves the fire pending with its next attempt due at ``next_attempt_at``; the tests let that time
pass (a queryset update) and run the scheduler's sweeper, whose messages run in this process.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from imports.models import ImportRun
from scheduler import services, tasks
from scheduler.models import Schedule, ScheduleFire
from tests.fixtures.services import free_port
from tests.fixtures.sshd import SftpServer
from tests.scheduler.conftest import (
    NOTIFY,
    ScheduleMaker,
    Sends,
    beat_fire,
    overdue,
    public_key_line,
    seconds_until,
)

Outcome = ScheduleFire.Outcome


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose connections complete (in the kernel's backlog) and then hear nothing."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def next_attempts(fire: ScheduleFire) -> list[float]:
    """Make the attempts a pending fire waits for, one after the other, through the sweeper
    (use with ``sends``); the waits it had before each one, in seconds."""
    waits = []
    for _ in range(10):
        fire.refresh_from_db()
        if fire.outcome != Outcome.PENDING:
            break
        waits.append(seconds_until(fire.next_attempt_at))
        overdue(fire)
        services.fires_sweep()
    fire.refresh_from_db()
    return waits


# Logging in and starting the run


def test_a_fire_logs_in_with_the_password_and_starts_the_run(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    schedule = sftp_schedule(delimiter=",", header="yes", mode="create")

    fire = beat_fire(schedule)

    assert (fire.outcome, fire.reason, fire.attempts) == (Outcome.STARTED, "", 1)
    assert fire.next_attempt_at is None
    run = fire.run
    content = (sftp_folder / "users.csv").read_bytes()
    assert run.file_sha256 == hashlib.sha256(content).hexdigest()
    assert (run.source, run.mode, run.dry_run) == (ImportRun.Source.SCHEDULE, "create", False)
    assert run.run_as_email == "admin@acme.example"
    assert run.file_name == "users.csv"
    assert run.options == {
        "header": "yes",
        "delimiter": ",",
        "quotechar": "auto",
        "encoding": "auto",
    }
    assert fire.file_modified is not None
    assert (sftp_folder / "users.csv").exists()  # left in place until the run ends


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa-pem"])
def test_a_fire_logs_in_with_a_private_key(
    sftp_schedule: ScheduleMaker, sftp_server: SftpServer, kind: str
) -> None:
    schedule = sftp_schedule(sftp_password="", sftp_private_key=sftp_server.private_keys[kind])

    fire = beat_fire(schedule)

    assert fire.outcome == Outcome.STARTED, fire.reason


def test_a_second_message_for_the_same_attempt_does_nothing(sftp_schedule: ScheduleMaker) -> None:
    fire = beat_fire(sftp_schedule())

    tasks.fire_attempt(fire.pk, 0)

    assert ImportRun.objects.count() == 1


# Failures that are not retried


def test_a_wrong_pinned_host_key_is_refused_without_retry(
    sftp_schedule: ScheduleMaker, django_capture_on_commit_callbacks
) -> None:
    schedule = sftp_schedule(host_key=public_key_line())

    with django_capture_on_commit_callbacks(execute=True):
        fire = beat_fire(schedule)

    assert (fire.outcome, fire.attempts, fire.next_attempt_at) == (Outcome.FAILED, 1, None)
    assert "presented the host key SHA256:" in fire.reason
    assert "Nothing was sent." in fire.reason
    assert not ImportRun.objects.exists()
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert "failed" in message.subject
    assert "Nothing was sent." in message.body


def test_a_refused_login_is_not_retried(sftp_schedule: ScheduleMaker) -> None:
    fire = beat_fire(sftp_schedule(sftp_password="wrong-password"))

    assert (fire.outcome, fire.next_attempt_at) == (Outcome.FAILED, None)
    assert "refused the login" in fire.reason
    assert "wrong-password" not in fire.reason


def test_a_missing_file_fails_the_fire_at_once(
    sftp_schedule: ScheduleMaker, sftp_folder: Path, django_capture_on_commit_callbacks
) -> None:
    schedule = sftp_schedule(file_path=f"{sftp_folder}/missing.csv")

    with django_capture_on_commit_callbacks(execute=True):
        fire = beat_fire(schedule)

    assert (fire.outcome, fire.next_attempt_at) == (Outcome.FAILED, None)
    assert fire.reason.startswith(f"{sftp_folder}/missing.csv does not exist on 127.0.0.1:")
    assert fire.reason in mail.outbox[0].body


def test_a_file_over_the_size_limit_is_not_read(sftp_schedule: ScheduleMaker, settings) -> None:
    settings.IMPORT_MAX_FILE_BYTES = 100

    fire = beat_fire(sftp_schedule())

    assert fire.outcome == Outcome.FAILED
    assert "over the limit of 100 bytes: it was not imported." in fire.reason


@pytest.mark.parametrize(
    ("email", "why"),
    [
        (
            "bob.keller@acme.example",
            "is not a SmartRecruiters administrator of Acme Demo (system role: EMPLOYEE).",
        ),
        ("carla.ruiz@acme.example", "is not active in SmartRecruiters."),
        ("nobody@acme.example", "is not a SmartRecruiters user of Acme Demo."),
    ],
)
def test_the_run_as_user_must_be_an_active_administrator(
    sftp_schedule: ScheduleMaker, django_capture_on_commit_callbacks, email: str, why: str
) -> None:
    schedule = sftp_schedule(run_as_email=email)

    with django_capture_on_commit_callbacks(execute=True):
        fire = beat_fire(schedule)

    assert fire.outcome == Outcome.FAILED
    assert fire.reason == f"The run-as user {email} {why}"
    assert not ImportRun.objects.exists()
    assert fire.reason in mail.outbox[0].body


# Transient failures: tried again with backoff, then failed


def test_a_server_that_is_down_is_tried_again_then_the_fire_fails(
    sftp_schedule: ScheduleMaker, sends: Sends, django_capture_on_commit_callbacks
) -> None:
    schedule = sftp_schedule(sftp_port=free_port())

    fire = beat_fire(schedule)

    assert (fire.outcome, fire.attempts) == (Outcome.PENDING, 1)
    assert seconds_until(fire.next_attempt_at) == pytest.approx(30, abs=5)
    assert "Attempt 1 failed: Could not connect to the SFTP server" in fire.reason
    assert "the connection was refused" in fire.reason
    assert fire.reason.endswith("Trying again in 30 seconds.")
    assert not mail.outbox

    services.fires_sweep()  # before its time, the sweeper leaves it waiting

    assert not sends.attempts.called
    assert ScheduleFire.objects.get(pk=fire.pk).attempts == 1

    with django_capture_on_commit_callbacks(execute=True):
        waits = next_attempts(fire)

    assert waits == pytest.approx([30, 120, 300], abs=5)
    assert [call.args for call in sends.attempts.call_args_list] == [
        (fire.pk, 1),
        (fire.pk, 2),
        (fire.pk, 3),
    ]
    assert (fire.outcome, fire.attempts, fire.next_attempt_at) == (Outcome.FAILED, 4, None)
    assert fire.reason.endswith("(is the server running, and is the port right?). (4 attempts)")
    assert len(mail.outbox) == 1


def test_a_server_that_never_answers_ends_the_attempt_at_its_timeout(
    sftp_schedule: ScheduleMaker, silent_port: int
) -> None:
    schedule = sftp_schedule(sftp_port=silent_port, connect_timeout=1)

    fire = beat_fire(schedule)

    assert fire.outcome == Outcome.PENDING
    assert seconds_until(fire.next_attempt_at) == pytest.approx(30, abs=5)
    assert "did not complete the SSH handshake within 1 seconds" in fire.reason


def test_the_server_coming_back_lets_the_next_attempt_start_the_run(
    sftp_schedule: ScheduleMaker, sftp_server: SftpServer, sends: Sends
) -> None:
    schedule = sftp_schedule(sftp_port=free_port())
    fire = beat_fire(schedule)
    Schedule.objects.filter(pk=schedule.pk).update(sftp_port=sftp_server.port)

    next_attempts(fire)

    assert (fire.outcome, fire.attempts, fire.reason) == (Outcome.STARTED, 2, "")
    assert fire.next_attempt_at is None


# Skipping an unchanged file


def finished_run(schedule: Schedule, sha256: str, *, errors: int = 0) -> ImportRun:
    run = ImportRun.objects.create(
        company=schedule.company,
        source=ImportRun.Source.SCHEDULE,
        status=ImportRun.Status.FINISHED,
        file_sha256=sha256,
        rows_total=7,
        rows_done=7,
        rows_failed=errors,
        count_error=errors,
        finished_at=timezone.now(),
    )
    ScheduleFire.objects.create(
        schedule=schedule,
        scheduled_for=timezone.now() - timedelta(days=1),
        outcome=Outcome.STARTED,
        run=run,
        finished_at=timezone.now(),
    )
    return run


def test_an_unchanged_file_is_skipped_when_asked(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    schedule = sftp_schedule(skip_unchanged=True)
    digest = hashlib.sha256((sftp_folder / "users.csv").read_bytes()).hexdigest()
    last = finished_run(schedule, digest)

    fire = beat_fire(schedule)

    assert fire.outcome == Outcome.SKIPPED
    assert fire.reason.startswith(f"{sftp_folder}/users.csv has not changed since run {last.pk}")
    assert ImportRun.objects.count() == 1


def test_an_unchanged_file_is_imported_again_after_a_run_with_errors(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    schedule = sftp_schedule(skip_unchanged=True)
    digest = hashlib.sha256((sftp_folder / "users.csv").read_bytes()).hexdigest()
    last = finished_run(schedule, digest, errors=1)

    fire = beat_fire(schedule)

    assert fire.outcome == Outcome.STARTED
    assert fire.run != last


def test_a_changed_file_is_imported(sftp_schedule: ScheduleMaker) -> None:
    schedule = sftp_schedule(skip_unchanged=True)
    finished_run(schedule, "0" * 64)

    beat_fire(schedule)

    assert ImportRun.objects.count() == 2
