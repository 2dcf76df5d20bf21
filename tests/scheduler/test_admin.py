"""The operators' schedule pages in the Django admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from imports.models import ImportRun
from scheduler.cron import next_runs
from scheduler.models import Schedule, ScheduleFire
from scheduler.services import queue
from scheduler.sftp import parse_host_keys
from tests.fixtures.services import free_port
from tests.fixtures.sshd import SftpServer
from tests.scheduler.conftest import make_schedule, public_key_line, schedule_form_data
from user2smart.dbclock import db_now

LIST = reverse("admin:scheduler_schedule_changelist")
ADD = reverse("admin:scheduler_schedule_add")
HOST_KEY = reverse("admin:scheduler_schedule_host_key")
Outcome = ScheduleFire.Outcome


def change_url(schedule: Schedule) -> str:
    return reverse("admin:scheduler_schedule_change", args=[schedule.pk])


def form_data(schedule: Schedule | None = None, **overrides: Any) -> dict[str, Any]:
    """What the admin's change form posts for ``schedule`` (with its company)."""
    company = {"company": schedule.company_id} if schedule is not None else {}
    return schedule_form_data(schedule, **company, **overrides)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_list_says_when_each_schedule_runs_and_how_it_last_went(admin_client, acme) -> None:
    schedule = make_schedule(acme, cron="0 2 * * *", timezone="Europe/Paris")
    run = ImportRun.objects.create(
        company=acme, source="schedule", status="finished", finished_at=timezone.now()
    )
    ScheduleFire.objects.create(
        schedule=schedule, scheduled_for=timezone.now(), outcome=Outcome.STARTED, run=run
    )
    make_schedule(acme, name="paused", enabled=False)

    page = admin_client.get(LIST).content.decode()

    upcoming = next_runs("0 2 * * *", "Europe/Paris", 1)[0]
    assert "At 02:00 (Europe/Paris)" in page
    assert f"{upcoming:%Y-%m-%d %H:%M %Z}" in page
    assert " V</td>" in page
    assert "disabled" in page
    assert "never" in page


def test_the_change_page_shows_the_expression_in_words_and_the_next_five_runs(
    admin_client, acme
) -> None:
    schedule = make_schedule(acme, cron="0 15 10 ? * MON-FRI", timezone="America/New_York")

    page = admin_client.get(change_url(schedule)).content.decode()

    assert "At 10:15, Monday through Friday (America/New_York)" in page
    for run in next_runs(schedule.cron, schedule.timezone, 5):
        assert f"{run:%a %Y-%m-%d %H:%M %Z}" in page


def test_the_secrets_are_never_sent_to_the_browser(admin_client, sftp_server, acme) -> None:
    with_password = make_schedule(acme, sftp_password="s3cret-Passw0rd")
    with_key = make_schedule(
        acme, name="key", sftp_password="", sftp_private_key=sftp_server.private_keys["ed25519"]
    )

    password_page = admin_client.get(change_url(with_password)).content.decode()
    key_page = admin_client.get(change_url(with_key)).content.decode()

    assert "s3cret-Passw0rd" not in password_page
    assert "A password is stored." in password_page
    assert "PRIVATE KEY" not in key_page
    assert "A key is stored." in key_page


def test_a_blank_secret_keeps_the_stored_one(admin_client, acme) -> None:
    schedule = make_schedule(acme, sftp_password="s3cret-Passw0rd", cron="0 2 * * *")

    response = admin_client.post(change_url(schedule), form_data(schedule, cron="30 6 * * 1-5"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule.refresh_from_db()
    assert schedule.sftp_password == "s3cret-Passw0rd"
    assert schedule.cron == "30 6 * * 1-5"
    assert PeriodicTask.objects.get().crontab.hour == "6"


def test_a_new_private_key_replaces_the_password(admin_client, sftp_server, acme) -> None:
    schedule = make_schedule(acme, sftp_password="s3cret-Passw0rd")
    key = sftp_server.private_keys["rsa-pem"]

    response = admin_client.post(change_url(schedule), form_data(schedule, sftp_private_key=key))

    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule.refresh_from_db()
    assert (schedule.sftp_password, schedule.sftp_private_key) == ("", key.strip())


def test_a_schedule_added_in_the_admin_gets_its_beat_entry(admin_client, acme) -> None:
    response = admin_client.post(ADD, form_data(company=acme.pk, sftp_password="pw"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    schedule = Schedule.objects.get()
    assert PeriodicTask.objects.get() == schedule.periodic_task


CHECKED = [
    (
        "cron",
        "0 12 1 * MON",
        'The day-of-month field is "1" and the day-of-week field is "MON": Unix cron runs when '
        "either one matches, which the scheduler cannot express; restrict only one of them and "
        "put * in the other.",
    ),
    ("cron", "60 * * * *", 'The minute field is "60": minutes go from 0 to 59.'),
    (
        "timezone",
        "Mars/Olympus",
        'The timezone "Mars/Olympus" is unknown: use an IANA name such as Europe/Paris or UTC.',
    ),
    ("run_as_email", "not-an-email", "Enter a valid email address."),
    ("notify_emails", "ops@acme.example, nope", '"nope" is not an email address.'),
    (
        "host_key",
        "AAAAC3NzaC1lZDI1NTE5",
        'The pinned host key must read "TYPE BASE64", for example "ssh-ed25519 AAAAC3Nz...".',
    ),
    (
        "sftp_private_key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----",
        "The private key is not an Ed25519, ECDSA or RSA key in OpenSSH or PEM format (a PuTTY "
        ".ppk key converts with: puttygen KEY.ppk -O private-openssh -o KEYFILE).",
    ),
    ("sftp_port", "70000", "Ensure this value is less than or equal to 65535."),
    (
        "file_path",
        "in/users.csv",
        '"in/users.csv" is not an absolute path: give the full path on the server, starting '
        "with /.",
    ),
    (
        "log_prefix",
        "logs/users",
        "Use letters, digits, dots, dashes and underscores (no / or spaces), e.g. users-log.",
    ),
    ("encoding", "klingon", '"klingon" is not an encoding User2Smart knows.'),
]


@pytest.mark.parametrize(("field", "value", "message"), CHECKED)
def test_every_field_is_checked_on_save(
    admin_client, acme, field: str, value: str, message: str
) -> None:
    schedule = make_schedule(acme)

    response = admin_client.post(change_url(schedule), form_data(schedule, **{field: value}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert Schedule.objects.get().cron == schedule.cron  # nothing saved


def test_moving_needs_a_folder_and_enabling_needs_a_pinned_key(admin_client, acme) -> None:
    schedule = make_schedule(acme)

    response = admin_client.post(
        change_url(schedule), form_data(schedule, after_import="move", host_key="")
    )

    errors = response.context["adminform"].form.errors
    assert errors["move_to"] == ["Give the folder the processed file is moved to."]
    assert errors["host_key"][0].startswith("Pin the server's host key before enabling")


def test_a_password_or_a_key_is_required(admin_client, acme) -> None:
    response = admin_client.post(ADD, form_data(company=acme.pk))

    errors = response.context["adminform"].form.errors
    assert errors["sftp_password"] == ["Give the SFTP password or a private key for the login."]


def test_run_now_queues_a_fire_for_a_worker(
    admin_client, acme, django_capture_on_commit_callbacks
) -> None:
    schedule = make_schedule(acme)
    url = reverse("admin:scheduler_schedule_run_now", args=[schedule.pk])

    with (
        patch.object(queue, "fire_attempt_send", autospec=True) as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(url, follow=True)

    fire = ScheduleFire.objects.get()
    assert (fire.manual, fire.outcome, fire.attempts) == (True, Outcome.PENDING, 0)
    queued.assert_called_once_with(fire.pk, 0)
    # Should that message be lost, the sweeper sends the attempt a minute later.
    assert (fire.next_attempt_at - db_now()).total_seconds() == pytest.approx(60, abs=5)
    assert any("fetching the file from sftp.acme.example" in m for m in messages_of(response))


def test_run_now_from_the_list_says_when_the_last_run_is_still_going(admin_client, acme) -> None:
    schedule = make_schedule(acme)
    run = ImportRun.objects.create(company=acme, source="schedule", status="running")
    ScheduleFire.objects.create(
        schedule=schedule, scheduled_for=timezone.now(), outcome=Outcome.STARTED, run=run
    )

    response = admin_client.post(
        LIST, {"action": "run_now", "_selected_action": [schedule.pk]}, follow=True
    )

    assert any(f"Run {run.pk} (fired for" in m for m in messages_of(response))
    assert ScheduleFire.objects.filter(outcome=Outcome.SKIPPED).count() == 1


def test_test_connection_shows_the_servers_key_to_pin(
    admin_client, acme, sftp_server: SftpServer
) -> None:
    schedule = make_schedule(
        acme,
        enabled=False,
        host_key="",
        sftp_host=sftp_server.host,
        sftp_port=sftp_server.port,
        connect_timeout=5,
    )
    url = reverse("admin:scheduler_schedule_test_connection", args=[schedule.pk])

    response = admin_client.post(url, follow=True)

    fingerprint = parse_host_keys(sftp_server.host_key)[0].fingerprint
    shown = messages_of(response)
    assert any(
        sftp_server.host_key in m and fingerprint in m and "No key is pinned yet" in m
        for m in shown
    ), shown


def test_test_connection_checks_everything_a_fire_needs(
    admin_client, sftp_schedule, sftp_folder
) -> None:
    schedule = sftp_schedule()

    response = admin_client.post(
        LIST, {"action": "test_connection", "_selected_action": [schedule.pk]}, follow=True
    )

    shown = "\n".join(messages_of(response))
    assert f"{sftp_folder}/users.csv is there" in shown
    assert f"the log folder {sftp_folder}/logs is writable" in shown
    assert "admin@acme.example (Erin Admin) is an active SmartRecruiters administrator" in shown
    assert list((sftp_folder / "logs").iterdir()) == []  # the probe file was removed


def test_test_connection_reports_a_wrong_pinned_key(admin_client, sftp_schedule) -> None:
    schedule = sftp_schedule(host_key=public_key_line())

    response = admin_client.post(
        reverse("admin:scheduler_schedule_test_connection", args=[schedule.pk]), follow=True
    )

    assert any("but SHA256:" in m and "is pinned" in m for m in messages_of(response))


def test_the_page_lists_recent_fires_and_runs(admin_client, acme) -> None:
    schedule = make_schedule(acme)
    ScheduleFire.objects.create(
        schedule=schedule,
        scheduled_for=timezone.now(),
        outcome=Outcome.FAILED,
        reason="/in/users.csv does not exist on sftp.acme.example:22.",
    )
    run = ImportRun.objects.create(
        company=acme, source="schedule", status="finished", finished_at=timezone.now()
    )
    ScheduleFire.objects.create(
        schedule=schedule,
        scheduled_for=timezone.now() - timedelta(days=1),
        outcome=Outcome.STARTED,
        run=run,
        log_path="/logs/users-20250602.csv",
    )

    page = admin_client.get(change_url(schedule)).content.decode()

    assert "/in/users.csv does not exist on sftp.acme.example:22." in page
    assert "X (failed before the import)" in page
    assert "log: /logs/users-20250602.csv" in page


def test_deleting_in_the_admin_removes_the_beat_entry(admin_client, acme) -> None:
    schedule = make_schedule(acme)
    other = make_schedule(acme, name="other")

    admin_client.post(
        reverse("admin:scheduler_schedule_delete", args=[schedule.pk]), {"post": "yes"}
    )
    admin_client.post(
        LIST, {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"}
    )

    assert not Schedule.objects.exists()
    assert not PeriodicTask.objects.exists()


def test_the_enable_action_refuses_a_schedule_without_a_pinned_key(admin_client, acme) -> None:
    schedule = make_schedule(acme, enabled=False, host_key="")

    response = admin_client.post(
        LIST, {"action": "enable", "_selected_action": [schedule.pk]}, follow=True
    )

    assert any("not enabled: no host key is pinned" in m for m in messages_of(response))
    assert not Schedule.objects.get().enabled


def test_the_admin_offers_no_page_of_beat_entries_of_its_own(admin_client, acme) -> None:
    schedule = make_schedule(acme)

    index = admin_client.get(reverse("admin:index")).content.decode()
    beat_list = admin_client.get("/admin/django_celery_beat/periodictask/")

    assert "Schedules" in index
    for name in ("Clocked", "Crontabs", "Intervals", "Periodic tasks", "Solar events"):
        assert name not in index
    assert beat_list.status_code == 404
    assert PeriodicTask.objects.get() == schedule.periodic_task  # beat still has its entry


def test_a_password_typed_is_kept_when_the_form_comes_back_with_an_error(
    admin_client, acme
) -> None:
    response = admin_client.post(
        ADD, form_data(company=acme.pk, sftp_password="typed-Passw0rd", cron="60 * * * *")
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="sftp_password" value="typed-Passw0rd"' in page
    assert not Schedule.objects.exists()


def test_the_stored_password_never_comes_back_with_an_error(admin_client, acme) -> None:
    schedule = make_schedule(acme, sftp_password="s3cret-Passw0rd")

    response = admin_client.post(change_url(schedule), form_data(schedule, cron="60 * * * *"))

    assert response.status_code == 200
    assert "s3cret-Passw0rd" not in response.content.decode()


def test_the_add_form_fetches_the_servers_host_key_to_pin(
    admin_client, sftp_server: SftpServer
) -> None:
    add_page = admin_client.get(ADD).content.decode()
    assert "Fetch the host key" in add_page

    response = admin_client.post(
        HOST_KEY, {"sftp_host": sftp_server.host, "sftp_port": sftp_server.port}
    )

    shown = response.content.decode()
    fingerprint = parse_host_keys(sftp_server.host_key)[0].fingerprint
    assert sftp_server.host_key in shown
    assert fingerprint in shown
    assert "Check this fingerprint with the server's administrator" in shown
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"sftp_host": ""}, "Give the SFTP host first, then fetch its host key."),
        ({"sftp_host": "127.0.0.1", "sftp_port": "99999"}, "whole number from 1 to 65535"),
        (
            {"sftp_host": "127.0.0.1", "sftp_port": "free"},
            "Could not connect to the SFTP server at 127.0.0.1:",
        ),
    ],
)
def test_fetching_the_host_key_says_what_went_wrong(admin_client, posted, message) -> None:
    if posted.get("sftp_port") == "free":
        posted = {**posted, "sftp_port": free_port(), "connect_timeout": 2}

    response = admin_client.post(HOST_KEY, posted)

    assert response.status_code == 200
    assert message in response.content.decode()


def test_saving_enabled_without_a_key_says_what_to_do_next(admin_client, acme) -> None:
    refused = admin_client.post(ADD, form_data(company=acme.pk, sftp_password="pw", host_key=""))
    saved = admin_client.post(
        ADD, form_data(company=acme.pk, sftp_password="pw", host_key="", enabled=None)
    )

    error = refused.context["adminform"].form.errors["host_key"][0]
    assert '"Fetch the host key" shows it' in error
    assert "untick Enabled to save the schedule now" in error
    assert saved.status_code == 302
    assert Schedule.objects.get().enabled is False
