"""A schedule that applies its file all or nothing: one bad row and nothing is sent, the log on
the SFTP server and the email say why. Fires run against the real sshd and the emulator; the
import's planning runs here, as its worker would run it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail

from imports import tasks as import_tasks
from imports.models import ImportRun
from scheduler import tasks
from scheduler.models import Schedule, ScheduleFire
from tests.imports.runs.files import csv_bytes, person
from tests.scheduler.conftest import NOTIFY, ScheduleMaker, beat_fire, make_schedule
from tests.scheduler.test_admin import change_url, form_data
from tests.scheduler.test_commands import PASSWORD, add_schedule, required

Outcome = ScheduleFire.Outcome
MESSAGE = "Nothing was applied because 1 row has errors; fix them or turn off 'all or nothing'."


@pytest.fixture
def one_bad_row(sftp_folder: Path) -> Path:
    """users.csv on the server: two new people, then the first one again (a duplicate)."""
    path = sftp_folder / "users.csv"
    path.write_bytes(csv_bytes([person(1), person(2), person(1, lastName="Again")]))
    return path


def test_a_scheduled_run_all_or_nothing_sends_nothing_and_says_why(
    sftp_schedule: ScheduleMaker,
    one_bad_row: Path,
    sftp_folder: Path,
    emulator,
    django_capture_on_commit_callbacks,
) -> None:
    fire = beat_fire(sftp_schedule(all_or_nothing=True))
    emulator.clear_stats()

    with django_capture_on_commit_callbacks(execute=True):
        import_tasks.plan_run(fire.run_id)  # as the worker plans it
    run = ImportRun.objects.get(pk=fire.run_id)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_finished(run.pk)  # what imports sends when the run ends

    assert run.all_or_nothing
    assert (run.status, run.result, run.error) == ("failed", "X", MESSAGE)
    assert run.rows_skipped == 2
    assert emulator.writes() == {}
    fire.refresh_from_db()
    log = Path(fire.log_path).read_text(encoding="utf-8-sig")
    assert "Not sent: nothing was applied because 1 row has errors" in log
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert f"The run stopped: {MESSAGE}" in message.body


def test_a_schedule_without_it_starts_runs_that_apply_the_valid_rows(
    sftp_schedule: ScheduleMaker, one_bad_row: Path
) -> None:
    fire = beat_fire(sftp_schedule())

    assert fire.outcome == Outcome.STARTED, fire.reason
    assert fire.run.all_or_nothing is False


def test_a_new_schedule_is_not_all_or_nothing(acme) -> None:
    assert make_schedule(acme).all_or_nothing is False


def test_the_schedule_form_saves_the_choice(admin_client, acme) -> None:
    schedule = make_schedule(acme)

    response = admin_client.post(change_url(schedule), form_data(schedule, all_or_nothing="on"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule.refresh_from_db()
    assert schedule.all_or_nothing is True
    page = admin_client.get(change_url(schedule)).content.decode()
    assert "Apply only if the whole file is valid" in page


def test_add_schedule_sets_and_clears_the_choice(acme) -> None:
    out = add_schedule(*required(), "--password", PASSWORD, "--all-or-nothing")

    assert "; all or nothing" in out
    assert Schedule.objects.get().all_or_nothing is True

    add_schedule(*required(), "--no-all-or-nothing")

    assert Schedule.objects.get().all_or_nothing is False
