"""The company admins' Schedules page in the browser, against the test sshd and a real worker."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from scheduler.models import Schedule, ScheduleFire
from scheduler.sftp import parse_host_keys
from tests.browser.checks import assert_accessible
from tests.fixtures.emulator import ACME_ME_EMAIL
from tests.scheduler import conftest as scheduler_fixtures
from tests.scheduler.conftest import make_schedule
from tests.web.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# A folder on the test sshd with users.csv, logs/ and done/.
sftp_folder = scheduler_fixtures.sftp_folder


def fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f"#id_{name}").fill(value)


def test_a_schedule_is_created_with_the_host_key_the_admin_confirms(
    admin_page, screens, acme, sftp_server, sftp_folder
):
    page = admin_page
    page.goto("/")
    page.get_by_role("link", name="Schedules").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedules")
    screens.take(page, "no schedule yet")
    page.get_by_role("link", name="New schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New schedule")
    fill(
        page,
        {
            "name": "nightly",
            "cron": "0 0 2 1/1 * ? *",
            "timezone": "Europe/Paris",
            "run_as_email": ACME_ME_EMAIL,
            "sftp_host": sftp_server.host,
            "sftp_port": str(sftp_server.port),
            "sftp_username": sftp_server.username,
            "sftp_password": sftp_server.password,
            "file_path": f"{sftp_folder}/users.csv",
            "log_dir": f"{sftp_folder}/logs",
            "log_prefix": "users",
        },
    )
    screens.take(page, "new schedule")
    assert_accessible(page, page.get_by_role("button", name="Create the schedule"))

    # Enabled without a pinned key: refused, saying what to do; the password typed stays.
    page.get_by_role("button", name="Create the schedule").click()
    expect(page.locator(".field-host_key .error")).to_contain_text('"Fetch the host key" shows it')
    screens.take(page, "refused without a host key")
    expect(page.locator("#id_sftp_password")).to_have_value(sftp_server.password)
    assert not Schedule.objects.exists()

    page.get_by_role("button", name="Fetch the host key").click()
    fingerprint = parse_host_keys(sftp_server.host_key)[0].fingerprint
    expect(page.locator(".host-key-fingerprint")).to_have_text(fingerprint)
    expect(page.locator(".host-key-line")).to_have_text(sftp_server.host_key)
    screens.take(page, "host key fetched")
    expect(page.locator("#id_host_key")).to_have_value("")
    page.get_by_role("button", name="The fingerprint matches: pin this key").click()
    expect(page.locator("#id_host_key")).to_have_value(sftp_server.host_key)
    page.get_by_role("button", name="Create the schedule").click()

    expect(page.locator(".messages")).to_contain_text('Schedule "nightly" created (enabled)')
    row = page.locator("#schedules tbody tr", has_text="nightly")
    expect(row).to_contain_text("At 02:00 (Europe/Paris)")
    expect(row).to_contain_text("Enabled")
    expect(row).to_contain_text("Never")
    screens.take(page, "schedules")
    assert_accessible(page, page.get_by_role("link", name="New schedule"))
    schedule = Schedule.objects.get()
    assert (schedule.company, schedule.enabled) == (acme, True)
    assert (schedule.host_key, schedule.sftp_password) == (
        sftp_server.host_key,
        sftp_server.password,
    )


def test_run_now_imports_the_file_and_the_list_shows_the_result_and_the_log(
    admin_page, screens, acme, sftp_server, sftp_folder, celery_worker
):
    make_schedule(
        acme,
        sftp_host=sftp_server.host,
        sftp_port=sftp_server.port,
        sftp_username=sftp_server.username,
        sftp_password=sftp_server.password,
        host_key=sftp_server.host_key,
        file_path=f"{sftp_folder}/users.csv",
        log_dir=f"{sftp_folder}/logs",
        log_prefix="users",
    )
    page = admin_page
    page.goto("/schedules/")

    page.get_by_role("button", name="Run nightly now").click()

    expect(page.locator(".messages")).to_contain_text(f"fetching the file from {sftp_server.host}")
    wait_for(
        lambda: ScheduleFire.objects.exclude(log_path="").exists(),
        "the run to end and its log to be written",
        timeout=120,
    )
    fire = ScheduleFire.objects.select_related("run").get()
    log_name = fire.log_path.rsplit("/", 1)[1]
    assert (sftp_folder / "logs" / log_name).exists()
    page.reload()
    last_run = page.locator("#schedules tbody tr", has_text="nightly").locator(".last-run")
    expect(last_run.get_by_role("img", name="V: no errors")).to_be_visible()
    expect(last_run).to_contain_text(f"Log: {log_name}")
    screens.take(page, "after run now")
    assert fire.run.result == "V"

    page.get_by_role("link", name="nightly", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule nightly")
    latest = page.locator("#fires tbody tr").first
    expect(latest.get_by_role("img", name="V: no errors")).to_be_visible()
    expect(latest).to_contain_text("Run now")
    expect(latest).to_contain_text(log_name)
    expect(page.locator("#id_sftp_password")).to_have_value("")  # never the stored one
    screens.take(page, "schedule page")
    assert_accessible(page, page.get_by_role("button", name="Run now"))

    latest.get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"/imports/{fire.run.pk}/$"))


def test_a_schedule_is_disabled_and_enabled_from_the_list(admin_page, screens, acme):
    schedule = make_schedule(acme)
    keyless = make_schedule(acme, name="keyless", enabled=False, host_key="")
    page = admin_page
    page.goto("/schedules/")
    row = page.locator("#schedules tbody tr", has_text="nightly")

    row.get_by_role("button", name="Disable nightly").click()

    expect(page.locator(".messages")).to_contain_text('Schedule "nightly" disabled')
    expect(row).to_contain_text("Disabled")
    screens.take(page, "disabled")
    assert Schedule.objects.get(pk=schedule.pk).enabled is False

    row.get_by_role("button", name="Enable nightly").click()
    expect(page.locator(".messages")).to_contain_text('Schedule "nightly" enabled')
    expect(row).to_contain_text("Enabled")
    assert Schedule.objects.get(pk=schedule.pk).enabled is True

    page.get_by_role("button", name="Enable keyless").click()
    expect(page.locator(".messages")).to_contain_text("no host key is pinned")
    screens.take(page, "enable refused")
    assert Schedule.objects.get(pk=keyless.pk).enabled is False
