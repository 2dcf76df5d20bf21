"""Scheduled full sync: a schedule deactivates the people missing from its file, and a run that
holds its deactivations (over the company's limit) tells the notification addresses, once.

Fires run against the real sshd and the emulator. The import's planning runs here, as its worker
would run it; the integration test at the end runs everything in real worker processes.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from imports import tasks as import_tasks
from imports.models import ImportRun
from imports.services.intake import CREATE_CANNOT_DEACTIVATE
from scheduler import tasks
from scheduler.forms import ScheduleForm
from scheduler.models import Schedule, ScheduleFire
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import acme_company, default_state, make_users
from tests.fixtures.sshd import SftpServer
from tests.imports.runs.conftest import run_command
from tests.imports.runs.files import DOMAIN, csv_bytes, person
from tests.scheduler.conftest import NOTIFY, ScheduleMaker, beat_fire, make_schedule
from tests.scheduler.test_admin import ADD, change_url, form_data
from tests.scheduler.test_commands import PASSWORD, add_schedule, required
from user2smart.companies.models import Company

Outcome = ScheduleFire.Outcome
DEACTIVATE = "DELETE /users/{id}/activation"
# Acme's 33 active users: alice, bob, its administrator (the credential's user, never
# deactivated for being missing) and 30 bulk users; the truncated file lists 5 of the bulk ones.
HELD = 27
HELD_SUBJECT = (
    f"User2Smart: Acme Demo / nightly: {HELD} deactivations held, nothing was deactivated"
)


@pytest.fixture
def acme(emulator, db) -> Company:
    """Acme with 30 more active users than the samples' directory."""
    state = acme_company()
    state["users"] = [*state["users"], *make_users(30, DOMAIN)]
    emulator.reset(default_state(acme=state))
    return connect_acme(emulator)


@pytest.fixture
def truncated(sftp_server: SftpServer, sftp_folder: Path) -> Path:
    """users.csv on the server lists 5 of Acme's 33 active users, as they already are."""
    path = sftp_folder / "users.csv"
    path.write_bytes(csv_bytes([person(i) for i in range(5)]))
    return path


def deactivations(emulator) -> int:
    return sum(emulator.stats()["requests"].get(DEACTIVATE, {}).values())


def planned(fire: ScheduleFire) -> ImportRun:
    """The fire's run once planned, as the worker's ``imports.plan_run`` does it."""
    import_tasks.plan_run(fire.run_id)
    return ImportRun.objects.get(pk=fire.run_id)


# The option reaches the run


@pytest.mark.parametrize(("missing", "mode"), [("keep", "create"), ("deactivate", "update")])
def test_the_schedules_choice_for_people_missing_from_the_file_reaches_its_run(
    sftp_schedule: ScheduleMaker, missing: str, mode: str
) -> None:
    fire = beat_fire(sftp_schedule(missing=missing, mode=mode))

    assert fire.outcome == Outcome.STARTED, fire.reason
    assert (fire.run.missing, fire.run.mode) == (missing, mode)


def test_a_new_schedule_keeps_the_people_missing_from_its_file(acme: Company) -> None:
    assert make_schedule(acme).missing == "keep"


# A truncated file


def test_a_scheduled_full_sync_of_a_truncated_file_holds_and_emails_once(
    sftp_schedule: ScheduleMaker,
    truncated: Path,
    sftp_server: SftpServer,
    emulator,
    django_capture_on_commit_callbacks,
) -> None:
    fire = beat_fire(sftp_schedule(missing="deactivate", timezone="UTC"))
    emulator.clear_stats()

    run = planned(fire)

    assert (run.status, run.result) == (ImportRun.Status.FINISHED, "X")
    assert (run.count_unchanged, run.count_deactivate) == (5, HELD)
    assert (run.held, run.deactivation_limit) == (HELD, 10)
    assert deactivations(emulator) == 0

    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_finished(run.pk)  # what imports sends when the run ends
        tasks.run_finished(run.pk)  # the same message again

    fire.refresh_from_db()
    [message] = mail.outbox
    assert message.to == [NOTIFY]
    assert message.subject == HELD_SUBJECT
    body = message.body
    when = f"{run.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    assert body.startswith(f"The scheduled import nightly of Acme Demo ({when}, run {run.pk}) ")
    assert (
        f"{HELD} people are not in this file; the limit is 10. Nothing was deactivated. Check "
        "the file, then allow these deactivations." in body
    )
    assert f"should check the file ({truncated} on {sftp_server.host})" in body
    assert f"open run {run.pk} in User2Smart's import history and press Allow these" in body
    assert f"missing from the file: {HELD} (held: none was deactivated)." in body
    assert f"The log is on the SFTP server: {fire.log_path}" in body
    assert sftp_server.password not in body
    assert fire.held_notified_at is not None

    # An admin retries the run's failed rows: it ends again and is wrapped up again. The
    # deactivations are still held, but that was said: the usual X email goes out, not this one.
    ImportRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        tasks.run_finished(run.pk)

    assert [message.subject for message in mail.outbox] == [
        HELD_SUBJECT,
        "User2Smart: the scheduled import Acme Demo / nightly ended with errors (X)",
    ]
    assert deactivations(emulator) == 0


# Refused at save


def test_the_schedule_form_refuses_create_mode_with_deactivation(admin_client, acme) -> None:
    response = admin_client.post(
        ADD, form_data(company=acme.pk, sftp_password=PASSWORD, mode="create", missing="deactivate")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"missing": [CREATE_CANNOT_DEACTIVATE]}
    assert not Schedule.objects.exists()


def test_the_schedule_form_says_why_at_the_choice(acme) -> None:
    data = form_data(company=acme.pk, sftp_password=PASSWORD, mode="update", missing="deactivate")
    assert ScheduleForm(data=data).is_valid()

    form = ScheduleForm(data={**data, "mode": "create"})

    assert form.errors == {"missing": [CREATE_CANNOT_DEACTIVATE]}


def test_the_schedule_form_saves_the_choice(admin_client, acme) -> None:
    schedule = make_schedule(acme)

    response = admin_client.post(change_url(schedule), form_data(schedule, missing="deactivate"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule.refresh_from_db()
    assert schedule.missing == "deactivate"

    page = admin_client.get(change_url(schedule)).content.decode()
    assert "People missing from the file" in page


def test_add_schedule_sets_the_choice_and_refuses_create_mode_with_it(acme) -> None:
    out = add_schedule(*required(), "--password", PASSWORD, "--missing", "deactivate")

    assert "people missing from the file: deactivate them" in out
    assert Schedule.objects.get().missing == "deactivate"

    with pytest.raises(CommandError) as refused:
        add_schedule(*required(**{"--mode": "create"}))

    assert str(refused.value) == (
        f"The schedule was not saved:\n  people missing from the file: {CREATE_CANNOT_DEACTIVATE}"
    )
    assert Schedule.objects.get().mode == "upsert"


def test_add_schedule_refuses_a_new_create_mode_schedule_that_deactivates(acme) -> None:
    err = io.StringIO()
    with pytest.raises(CommandError, match="needs the Update or Create or update mode"):
        call_command(
            "add_schedule",
            *required(**{"--mode": "create"}),
            "--password",
            PASSWORD,
            "--missing",
            "deactivate",
            stderr=err,
        )

    assert not Schedule.objects.exists()


def test_a_stored_schedule_that_cannot_deactivate_fails_its_fire_and_says_why(
    sftp_schedule: ScheduleMaker, django_capture_on_commit_callbacks
) -> None:
    schedule = sftp_schedule(missing="deactivate")
    Schedule.objects.filter(pk=schedule.pk).update(mode="create")  # past the checks at save

    with django_capture_on_commit_callbacks(execute=True):
        fire = beat_fire(schedule)

    assert fire.outcome == Outcome.FAILED
    assert fire.reason == f"The import could not start: {CREATE_CANNOT_DEACTIVATE}"
    assert not ImportRun.objects.exists()
    assert mail.outbox[0].subject == "User2Smart: the scheduled import Acme Demo / nightly failed"


# With real workers


@pytest.mark.integration
def test_run_schedule_of_a_truncated_file_holds_and_tells_once(
    acme: Company, emulator, sftp_schedule: ScheduleMaker, truncated: Path, celery_worker
) -> None:
    sftp_schedule(missing="deactivate", timezone="UTC")
    emulator.clear_stats()

    code, out, err = run_command("run_schedule", "nightly", "--company", "acme", "--json")

    assert out.strip(), err
    document = json.loads(out)
    assert code == 1, (document, celery_worker.output())
    assert (document["result"], document["missing"], document["held"]) == ("X", "deactivate", HELD)
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert document["log_file"] == f"{truncated.parent}/logs/users-{today}.csv"
    assert deactivations(emulator) == 0
    fire = ScheduleFire.objects.get()
    told = fire.held_notified_at
    assert told is not None  # the worker's wrap-up sent the held email

    tasks.run_finished(fire.run_id)  # a late or repeated message

    fire.refresh_from_db()
    assert fire.held_notified_at == told
    assert not mail.outbox


@pytest.mark.integration
def test_run_schedule_within_the_limit_deactivates_the_missing_and_holds_nothing(
    acme: Company, emulator, sftp_schedule: ScheduleMaker, sftp_folder: Path, celery_worker
) -> None:
    # alice, bob and two bulk users are missing: 4, within the limit of 10.
    (sftp_folder / "users.csv").write_bytes(
        csv_bytes([person(i) for i in range(30) if i not in (7, 21)])
    )
    sftp_schedule(missing="deactivate")
    emulator.clear_stats()

    code, out, err = run_command("run_schedule", "nightly", "--company", "acme", "--json")

    assert out.strip(), err
    document = json.loads(out)
    assert code == 0, (document, celery_worker.output())
    assert (document["result"], document["counts"]["deactivate"], document["held"]) == ("V", 4, 0)
    assert deactivations(emulator) == 4
    assert not emulator.user(f"user00021@{DOMAIN}")["active"]
    assert emulator.user("admin@acme.example")["active"]
    assert ScheduleFire.objects.get().held_notified_at is None
