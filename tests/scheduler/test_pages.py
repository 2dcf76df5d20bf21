"""The company admins' Schedules page: their own company's schedules, nobody else's."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from imports.models import ImportRun
from imports.services.profiles import profile_save
from scheduler.cron import next_runs
from scheduler.models import Schedule, ScheduleFire
from scheduler.services import queue, sftp_host_check
from scheduler.sftp import parse_host_keys
from tests.fixtures.sshd import SftpServer
from tests.imports.test_profiles import BAMBOOHR
from tests.scheduler.conftest import make_schedule, schedule_form_data
from tests.web.conftest import make_company, make_member, signed_in
from user2smart.companies.models import Company

LIST = reverse("scheduler:list")
NEW = reverse("scheduler:new")
HOST_KEY = reverse("scheduler:host_key")
Outcome = ScheduleFire.Outcome


def edit_url(schedule: Schedule) -> str:
    return reverse("scheduler:edit", args=[schedule.pk])


def form_data(schedule: Schedule | None = None, **overrides: Any) -> dict[str, Any]:
    return schedule_form_data(schedule, **overrides)


@pytest.fixture
def member(django_user_model, acme: Company):
    return make_member(django_user_model, "hr.admin", acme)


@pytest.fixture
def browser(member):
    return signed_in(member)


@pytest.fixture
def other(db) -> Company:
    return make_company("globex", "Globex")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_list_shows_the_company_s_schedules_in_words_with_next_runs_and_last_result(
    browser, acme, other
) -> None:
    nightly = make_schedule(acme, cron="0 2 * * *", timezone="Europe/Paris")
    run = ImportRun.objects.create(
        company=acme, source="schedule", status="finished", finished_at=timezone.now()
    )
    ScheduleFire.objects.create(
        schedule=nightly,
        scheduled_for=timezone.now(),
        outcome=Outcome.STARTED,
        run=run,
        log_path="/logs/users-20261201.csv",
    )
    make_schedule(acme, name="paused", enabled=False)
    make_schedule(other, name="globex-secret-schedule")

    response = browser.get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert "At 02:00 (Europe/Paris)" in page
    for upcoming in next_runs("0 2 * * *", "Europe/Paris", 3):
        assert upcoming.strftime("%H:%M") in page
        assert f"{upcoming:%a} {upcoming.day} {upcoming:%b %Y}" in page
    assert 'aria-label="V: no errors"' in page
    assert "users-20261201.csv" in page
    assert reverse("imports:run", args=[run.pk]) in page
    assert "paused" in page
    assert "Disabled" in page
    assert "Never" in page
    assert "globex-secret-schedule" not in page


def test_the_nav_links_to_the_schedules_page(browser) -> None:
    page = browser.get(reverse("imports:new")).content.decode()

    assert f'<a href="{LIST}"' in page


def test_another_company_s_schedule_is_not_found(browser, other) -> None:
    theirs = make_schedule(other, sftp_password="their-Passw0rd")
    urls = [
        ("get", edit_url(theirs)),
        ("post", edit_url(theirs)),
        ("post", reverse("scheduler:run_now", args=[theirs.pk])),
        ("post", reverse("scheduler:enable", args=[theirs.pk])),
        ("post", reverse("scheduler:disable", args=[theirs.pk])),
    ]

    with patch.object(queue, "fire_attempt_send", autospec=True) as queued:
        answers = [getattr(browser, method)(url).status_code for method, url in urls]

    assert answers == [404] * len(urls)
    queued.assert_not_called()
    assert not ScheduleFire.objects.exists()
    theirs.refresh_from_db()
    assert theirs.enabled


def test_signed_out_people_are_sent_to_sign_in(client, acme) -> None:
    schedule = make_schedule(acme)

    for url in (LIST, NEW, edit_url(schedule)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/signin/")
    assert client.post(HOST_KEY, {"sftp_host": "127.0.0.1"}).status_code == 302


def test_a_schedule_created_on_the_page_is_the_company_s_and_gets_its_beat_entry(
    browser, acme, other
) -> None:
    response = browser.post(NEW, form_data(sftp_password="pw", company=other.pk))

    assert response.status_code == 302
    schedule = Schedule.objects.get()
    assert schedule.company == acme  # no choice of company, whatever is posted
    assert schedule.periodic_task == PeriodicTask.objects.get()
    assert schedule.sftp_password == "pw"
    assert any('Schedule "nightly" created (enabled)' in m for m in messages_of(browser.get(LIST)))


def test_another_company_s_profile_cannot_be_chosen(browser, acme, other) -> None:
    theirs = profile_save(company=other, data={**BAMBOOHR, "name": "globex-hr"})
    ours = profile_save(company=acme, data=BAMBOOHR)

    page = browser.get(NEW).content.decode()
    refused = browser.post(NEW, form_data(sftp_password="pw", profile=theirs.pk))

    assert "globex-hr" not in page
    assert "bamboohr" in page
    assert list(refused.context["form"].errors) == ["profile"]
    assert not Schedule.objects.exists()
    assert browser.post(NEW, form_data(sftp_password="pw", profile=ours.pk)).status_code == 302
    assert Schedule.objects.get().profile == ours


def test_a_name_already_used_in_the_company_is_refused_in_words(browser, acme, other) -> None:
    make_schedule(acme, name="nightly")
    make_schedule(other, name="weekly")

    taken = browser.post(NEW, form_data(name="nightly", sftp_password="pw"))
    free = browser.post(NEW, form_data(name="weekly", sftp_password="pw"))

    assert taken.context["form"].errors["name"] == [
        'Acme Demo already has a schedule called "nightly": choose another name.'
    ]
    assert free.status_code == 302


def test_every_field_is_checked_as_in_the_admin(browser, acme) -> None:
    schedule = make_schedule(acme)

    response = browser.post(
        edit_url(schedule),
        form_data(schedule, cron="60 * * * *", file_path="in/users.csv", host_key=""),
    )

    errors = response.context["form"].errors
    assert errors["cron"] == ['The minute field is "60": minutes go from 0 to 59.']
    assert errors["file_path"][0].startswith('"in/users.csv" is not an absolute path')
    assert errors["host_key"][0].startswith("Pin the server's host key before enabling")
    page = response.content.decode()
    assert "The schedule was not saved: correct what is marked below." in page
    assert Schedule.objects.get().cron == schedule.cron


def test_the_secrets_are_never_shown_and_a_blank_one_keeps_the_stored_one(
    browser, acme, sftp_server: SftpServer
) -> None:
    with_password = make_schedule(acme, sftp_password="s3cret-Passw0rd")
    with_key = make_schedule(
        acme, name="key", sftp_password="", sftp_private_key=sftp_server.private_keys["ed25519"]
    )

    password_page = browser.get(edit_url(with_password)).content.decode()
    key_page = browser.get(edit_url(with_key)).content.decode()
    saved = browser.post(edit_url(with_password), form_data(with_password, cron="30 6 * * 1-5"))
    refused = browser.post(
        edit_url(with_password), form_data(with_password, cron="60 * * * *")
    ).content.decode()

    assert "s3cret-Passw0rd" not in password_page
    assert "A password is stored." in password_page
    assert "PRIVATE KEY" not in key_page
    assert "A key is stored." in key_page
    assert saved.status_code == 302
    with_password.refresh_from_db()
    assert (with_password.cron, with_password.sftp_password) == ("30 6 * * 1-5", "s3cret-Passw0rd")
    assert "s3cret-Passw0rd" not in refused


def test_a_password_typed_is_kept_when_the_form_comes_back_with_an_error(browser, acme) -> None:
    response = browser.post(NEW, form_data(sftp_password="typed-Passw0rd", cron="60 * * * *"))

    assert response.status_code == 200
    assert 'name="sftp_password" value="typed-Passw0rd"' in response.content.decode()
    assert not Schedule.objects.exists()


def test_saving_enabled_without_a_host_key_says_what_to_do_and_disabled_saves(
    browser, acme
) -> None:
    refused = browser.post(NEW, form_data(sftp_password="pw", host_key=""))
    saved = browser.post(NEW, form_data(sftp_password="pw", host_key="", enabled=None))

    error = refused.context["form"].errors["host_key"][0]
    assert '"Fetch the host key" shows it' in error
    assert saved.status_code == 302
    assert Schedule.objects.get().enabled is False
    assert any("saved disabled: it does not run" in m for m in messages_of(browser.get(LIST)))


def test_the_form_fetches_the_servers_host_key(browser, sftp_server: SftpServer) -> None:
    assert "Fetch the host key" in browser.get(NEW).content.decode()

    response = browser.post(
        HOST_KEY, {"sftp_host": sftp_server.host, "sftp_port": sftp_server.port}
    )

    shown = response.content.decode()
    assert sftp_server.host_key in shown
    assert parse_host_keys(sftp_server.host_key)[0].fingerprint in shown
    assert not Schedule.objects.exists()


def test_run_now_queues_a_fire(browser, acme, django_capture_on_commit_callbacks) -> None:
    schedule = make_schedule(acme)

    with (
        patch.object(queue, "fire_attempt_send", autospec=True) as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = browser.post(reverse("scheduler:run_now", args=[schedule.pk]), follow=True)

    fire = ScheduleFire.objects.get()
    assert (fire.schedule, fire.manual, fire.outcome) == (schedule, True, Outcome.PENDING)
    queued.assert_called_once_with(fire.pk, 0)
    assert any("fetching the file from sftp.acme.example" in m for m in messages_of(response))


def test_enable_and_disable_follow_beat_and_refuse_a_schedule_without_a_key(browser, acme) -> None:
    schedule = make_schedule(acme)
    keyless = make_schedule(acme, name="keyless", enabled=False, host_key="")

    browser.post(reverse("scheduler:disable", args=[schedule.pk]))
    disabled = (Schedule.objects.get(pk=schedule.pk).enabled, schedule.periodic_task_id)
    task_after_disable = PeriodicTask.objects.get(pk=schedule.periodic_task_id).enabled
    browser.post(reverse("scheduler:enable", args=[schedule.pk]))
    refused = browser.post(reverse("scheduler:enable", args=[keyless.pk]), follow=True)

    assert disabled[0] is False
    assert task_after_disable is False
    assert Schedule.objects.get(pk=schedule.pk).enabled is True
    assert PeriodicTask.objects.get(pk=schedule.periodic_task_id).enabled is True
    assert Schedule.objects.get(pk=keyless.pk).enabled is False
    assert any(
        'Schedule "keyless" was not enabled: no host key is pinned' in m
        for m in messages_of(refused)
    )


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1", "0.0.0.0"],  # noqa: S104
)
def test_the_service_s_own_network_is_named_as_such(host: str) -> None:
    problem = sftp_host_check(host=host)

    assert problem is not None
    assert f"The SFTP host {host} is inside the service's own network" in problem


@pytest.mark.parametrize("host", ["93.184.216.34", "2606:2800:220:1::1", "sftp.acme.invalid"])
def test_an_internet_address_or_an_unknown_name_is_left_to_the_connection(host: str) -> None:
    assert sftp_host_check(host=host) is None


def test_a_company_admin_cannot_point_a_schedule_at_the_service_s_network(
    browser, settings, sftp_server: SftpServer
) -> None:
    settings.SCHEDULE_PRIVATE_HOSTS = False

    saved = browser.post(NEW, form_data(sftp_password="pw", sftp_host="127.0.0.1"))
    fetched = browser.post(HOST_KEY, {"sftp_host": sftp_server.host, "sftp_port": sftp_server.port})

    assert saved.status_code == 200
    assert not Schedule.objects.exists()
    assert "inside the service&#x27;s own network" in saved.content.decode()
    shown = fetched.content.decode()
    assert "inside the service&#x27;s own network" in shown
    assert sftp_server.host_key not in shown


def test_operators_may_point_a_schedule_at_the_service_s_network(
    admin_client, settings, sftp_server: SftpServer
) -> None:
    settings.SCHEDULE_PRIVATE_HOSTS = False

    response = admin_client.post(
        reverse("admin:scheduler_schedule_host_key"),
        {"sftp_host": sftp_server.host, "sftp_port": sftp_server.port},
    )

    assert sftp_server.host_key in response.content.decode()
