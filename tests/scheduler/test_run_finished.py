"""After a scheduled run: the log is written back, the file moved, people told (real sshd)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone

from imports.models import ImportRun
from scheduler import services, tasks
from scheduler.models import Schedule, ScheduleFire
from tests.fixtures.services import free_port
from tests.scheduler.conftest import (
    NOTIFY,
    ScheduleMaker,
    Sends,
    beat_fire,
    overdue,
    seconds_until,
)

LOG = "line,email,result\r\n2,alice.martin@acme.example,OK\r\n".encode("utf-8-sig")


def ended(fire: ScheduleFire, *, status: str = ImportRun.Status.FINISHED, **values) -> ImportRun:
    """The fire's run, as ``imports`` leaves it when it ends (7 rows, no error by default)."""
    values = {
        "status": status,
        "finished_at": timezone.now(),
        "log_csv": LOG,
        "rows_total": 7,
        "rows_done": 7,
        **values,
    }
    ImportRun.objects.filter(pk=fire.run_id).update(**values)
    return ImportRun.objects.get(pk=fire.run_id)


def run_finished(run: ImportRun) -> None:
    """The task imports sends when a scheduled run ends, run here."""
    tasks.run_finished(run.pk)


def test_the_log_lands_in_the_log_folder_named_by_the_runs_day_in_the_schedules_timezone(
    sftp_schedule: ScheduleMaker, sftp_folder: Path, django_capture_on_commit_callbacks
) -> None:
    fire = beat_fire(sftp_schedule(timezone="Europe/Paris"))
    # 23:30 UTC on 1 June is 01:30 on 2 June in Paris.
    run = ended(fire, created_at=datetime(2025, 6, 1, 23, 30, tzinfo=UTC))

    with django_capture_on_commit_callbacks(execute=True):
        run_finished(run)

    fire.refresh_from_db()
    log = sftp_folder / "logs" / "users-20250602.csv"
    assert fire.finish_next_at is None
    assert log.read_bytes() == LOG
    assert fire.log_path == str(log)
    assert (fire.finish_error, fire.moved_to) == ("", "")
    assert fire.finished_at is not None
    assert (sftp_folder / "users.csv").exists()
    assert not mail.outbox  # V: nobody is bothered


def test_a_second_run_the_same_day_gets_a_numbered_log(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    schedule = sftp_schedule(timezone="UTC")
    first = beat_fire(schedule)
    run_finished(ended(first, created_at=datetime(2025, 6, 2, 2, 0, tzinfo=UTC)))
    second = services.fire_claim(schedule_id=schedule.pk, manual=True)  # Run now, later on
    tasks.fire_attempt(second.pk, 0)
    second.refresh_from_db()

    run_finished(ended(second, created_at=datetime(2025, 6, 2, 9, 0, tzinfo=UTC)))

    second.refresh_from_db()
    assert sorted(path.name for path in (sftp_folder / "logs").iterdir()) == [
        "users-20250602-2.csv",
        "users-20250602.csv",
    ]
    assert second.log_path == f"{sftp_folder}/logs/users-20250602-2.csv"


def test_a_repeated_message_writes_the_log_once(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    fire = beat_fire(sftp_schedule())
    run = ended(fire)

    run_finished(run)
    run_finished(run)

    assert len(list((sftp_folder / "logs").iterdir())) == 1


def test_a_run_ended_again_after_a_retry_writes_its_new_log_beside_the_first(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    fire = beat_fire(sftp_schedule(timezone="UTC"))
    day = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)
    run_finished(ended(fire, created_at=day, status=ImportRun.Status.FAILED, log_csv=b"first"))

    # An admin retries the failed rows; the run ends again, later.
    retried = ended(fire, created_at=day, finished_at=timezone.now(), log_csv=LOG)
    run_finished(retried)
    run_finished(retried)  # a repeated message changes nothing

    fire.refresh_from_db()
    logs = sftp_folder / "logs"
    assert (logs / "users-20250602.csv").read_bytes() == b"first"
    assert (logs / "users-20250602-2.csv").read_bytes() == LOG
    assert len(list(logs.iterdir())) == 2
    assert fire.log_path == f"{sftp_folder}/logs/users-20250602-2.csv"
    assert fire.finished_at is not None


def test_the_processed_file_is_moved_when_asked(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    (sftp_folder / "done" / "users.csv").write_text("yesterday's file")
    fire = beat_fire(sftp_schedule(after_import="move", move_to=f"{sftp_folder}/done"))

    run_finished(ended(fire))

    fire.refresh_from_db()
    assert not (sftp_folder / "users.csv").exists()
    assert fire.moved_to == f"{sftp_folder}/done/users-2.csv"  # never overwriting
    assert (sftp_folder / "done" / "users.csv").read_text() == "yesterday's file"


def test_a_file_delivered_again_during_the_run_is_left_in_place(
    sftp_schedule: ScheduleMaker, sftp_folder: Path, django_capture_on_commit_callbacks
) -> None:
    fire = beat_fire(sftp_schedule(after_import="move", move_to=f"{sftp_folder}/done"))
    (sftp_folder / "users.csv").write_text("email\nnew.delivery@acme.example\n")

    with django_capture_on_commit_callbacks(execute=True):
        run_finished(ended(fire))

    fire.refresh_from_db()
    assert (sftp_folder / "users.csv").exists()
    assert fire.moved_to == ""
    assert "changed after it was downloaded" in fire.finish_error
    assert fire.finish_error in mail.outbox[0].body


def test_a_run_with_errors_emails_the_notification_addresses(
    sftp_schedule: ScheduleMaker, django_capture_on_commit_callbacks
) -> None:
    fire = beat_fire(sftp_schedule())
    run = ended(fire, count_error=2, rows_failed=2)

    with django_capture_on_commit_callbacks(execute=True):
        run_finished(run)

    fire.refresh_from_db()
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert message.subject == (
        "User2Smart: the scheduled import Acme Demo / nightly ended with errors (X)"
    )
    assert f"(run {run.pk}) ended: X." in message.body
    assert "2 errors (2 in the file)" in message.body
    assert f"The log is on the SFTP server: {fire.log_path}" in message.body


def test_a_file_that_could_not_be_read_writes_the_reason_and_stays_in_place(
    sftp_schedule: ScheduleMaker, sftp_folder: Path
) -> None:
    fire = beat_fire(sftp_schedule(after_import="move", move_to=f"{sftp_folder}/done"))
    reason = "The file is not a CSV file: it looks like an Excel workbook."
    run = ended(
        fire, status=ImportRun.Status.FAILED, error=reason, rows_total=0, rows_done=0, log_csv=b""
    )

    run_finished(run)

    fire.refresh_from_db()
    assert reason in Path(fire.log_path).read_text(encoding="utf-8-sig")
    assert (sftp_folder / "users.csv").exists()
    assert (
        fire.finish_error
        == f"The run did not finish, so {sftp_folder}/users.csv was left in place."
    )


def test_writing_the_log_is_tried_again_when_the_server_is_down(
    sftp_schedule: ScheduleMaker, sftp_folder: Path, sends: Sends
) -> None:
    schedule = sftp_schedule()
    fire = beat_fire(schedule)
    run = ended(fire)
    port = Schedule.objects.get().sftp_port
    Schedule.objects.update(sftp_port=free_port())

    run_finished(run)

    fire.refresh_from_db()
    assert fire.finished_at is None
    assert seconds_until(fire.finish_next_at) == pytest.approx(30, abs=5)
    assert fire.finish_error.endswith("Trying again in 30 seconds.")

    Schedule.objects.update(sftp_port=port)
    services.fires_sweep()  # before its time, the sweeper leaves it waiting

    assert not sends.wrap_ups.called

    overdue(fire)
    services.fires_sweep()

    sends.wrap_ups.assert_called_once_with(run.pk, 1)
    fire.refresh_from_db()
    assert (fire.finish_error, fire.finished_at is not None) == ("", True)
    assert (fire.finish_attempts, fire.finish_next_at) == (2, None)
    assert len(list((sftp_folder / "logs").iterdir())) == 1
