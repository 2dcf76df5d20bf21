"""Export users: the file in the import format, at once or as a job, and back in Update mode."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from imports import services
from imports.csvfile import COLUMNS
from imports.models import ImportRun, UserExport
from tests.fixtures.emulator import acme_company, default_state, make_users
from tests.web.conftest import wait_for

ALICE = "alice.martin@acme.example"


def rows_of(content: bytes, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=delimiter))


def export(browser, **fields):
    return browser.post(reverse("imports:export"), {"delimiter": ",", **fields})


def reimport_as_update_preview(company, content: bytes) -> ImportRun:
    """Plan the file in Update mode, as a preview, here and now (no change can be made)."""
    run = services.run_start(
        company=company,
        file=io.BytesIO(content),
        file_name="export.csv",
        mode="update",
        source=ImportRun.Source.COMMAND,
        dry_run=True,
        enqueue=False,
    )
    services.run_plan(run_id=run.pk)
    run.refresh_from_db()
    return run


@pytest.mark.integration
def test_a_small_company_downloads_its_users_at_once(acme_browser):
    response = export(acme_browser, delimiter=";")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="acme-users-{timezone.localdate():%Y%m%d}.csv"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = rows_of(response.content, ";")
    assert list(rows[0]) == list(COLUMNS)
    by_email = {row["email"]: row for row in rows}
    assert set(by_email) == {ALICE, "bob.keller@acme.example", "carla.ruiz@acme.example",
                             "admin@acme.example"}  # fmt: skip
    alice = by_email[ALICE]
    assert (alice["systemRoleId"], alice["externalData"], alice["languageCode"]) == (
        "STANDARD",
        "E1001",
        "fr",
    )
    assert (alice["active"], alice["enabled"]) == ("true", "true")
    assert alice["accessGroupId"] == "60497fe33e2b74a609b7e411"
    assert alice["countryCode"] == alice["city"] == ""
    carla = by_email["carla.ruiz@acme.example"]
    assert (carla["active"], carla["enabled"], carla["languageCode"]) == ("false", "false", "es-MX")
    assert by_email["bob.keller@acme.example"]["ssoIdentifier"] == "bkeller"
    for row in rows:
        assert row["password"] == row["sendEmail"] == row["oldEmail"] == ""
    assert not UserExport.objects.exists()


@pytest.mark.integration
def test_an_exported_file_imported_back_in_update_mode_changes_nothing(acme, acme_browser):
    content = export(acme_browser).content

    run = reimport_as_update_preview(acme, content)

    assert run.status == "planned", run.error
    assert run.rows_total == 4
    assert run.count_unchanged == 4, list(run.rows.values("line", "action", "changes", "errors"))


@pytest.mark.integration
def test_groups_are_joined_and_formulas_neutralised(acme, acme_browser, emulator):
    fred = [
        {
            "id": "65a0000000000000000000aa",
            "email": "formula@acme.example",
            "firstName": "Fred",
            "lastName": "Formula",
            "systemRole": {"id": "STANDARD"},
            "externalData": '=HYPERLINK("http://evil.example")',
            "language": {"code": "en"},
            "active": True,
            "accessGroups": [
                {"id": "60497fe33e2b74a609b7e410"},
                {"id": "60497fe33e2b74a609b7e412"},
            ],
        }
    ]
    emulator.reset(default_state(acme=acme_company(users=acme_company()["users"] + fred)))

    content = export(acme_browser).content
    row = next(row for row in rows_of(content) if row["email"] == "formula@acme.example")

    assert row["externalData"] == '\'=HYPERLINK("http://evil.example")'
    assert row["accessGroupId"] == "60497fe33e2b74a609b7e410|60497fe33e2b74a609b7e412"
    run = reimport_as_update_preview(acme, content)
    assert run.count_unchanged == 5, list(run.rows.values("changes", "errors"))


def test_an_export_says_when_smartrecruiters_cannot_be_reached(browser_a):
    response = export(browser_a, delimiter=",")

    assert response.status_code == 302
    page = browser_a.get(response["Location"]).content.decode()
    assert "SmartRecruiters could not be reached at http://127.0.0.1:" in page
    assert "so User2Smart could not read the company&#x27;s users" in page
    assert "Please try again in a few minutes." in page


def test_an_old_export_file_is_deleted_after_a_day(browser_a, company_a):
    job = UserExport.objects.create(
        company=company_a, status="finished", content="email\r\n", finished_at=timezone.now()
    )
    UserExport.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=25))

    browser_a.get(reverse("imports:export"))
    page = browser_a.get(reverse("imports:export_status", args=[job.pk])).content.decode()
    download = browser_a.post(reverse("imports:export_download", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.content == ""
    assert job.deleted_at is not None
    assert "older than a day, and then deleted" in page
    assert b"no longer available" in download.content


@pytest.mark.integration
def test_a_complete_export_runs_in_a_worker_and_downloads_once(
    acme, acme_browser, emulator, celery_worker
):
    response = export(acme_browser, complete="on", delimiter="\t")
    job = UserExport.objects.get()
    status_url = reverse("imports:export_status", args=[job.pk])

    assert response["Location"] == status_url
    wait_for(
        lambda: UserExport.objects.filter(pk=job.pk, status__in=["finished", "failed"]).exists(),
        "the export",
    )
    page = acme_browser.get(status_url).content.decode()
    poll = acme_browser.get(status_url, HTTP_HX_REQUEST="true")
    first = acme_browser.post(reverse("imports:export_download", args=[job.pk]))
    second = acme_browser.post(reverse("imports:export_download", args=[job.pk]), follow=True)

    job.refresh_from_db()
    assert job.status == "finished", job.error
    assert "The file is ready: 4 users" in page
    assert poll["HX-Refresh"] == "true"
    assert first["Content-Type"] == "text/csv; charset=utf-8"
    assert first["Content-Disposition"].startswith("attachment; filename=")
    alice = next(row for row in rows_of(first.content, "\t") if row["email"] == ALICE)
    assert (alice["countryCode"], alice["city"], alice["address"], alice["postalCode"]) == (
        "FR",
        "Paris",
        "1 rue de Rivoli",
        "75001",
    )
    assert b"no longer available" in second.content
    assert (job.content, job.users_done, job.users_total) == ("", 4, 4)
    assert job.downloaded_at is not None
    run = reimport_as_update_preview(acme, first.content)
    assert run.count_unchanged == 4, list(run.rows.values("changes", "errors"))


@pytest.mark.integration
def test_a_large_company_is_exported_in_the_background(acme, acme_browser, emulator, celery_worker):
    users = acme_company()["users"] + make_users(520, domain="acme.example")
    emulator.reset(default_state(acme=acme_company(users=users)))

    response = export(acme_browser)
    job = UserExport.objects.get()
    wait_for(lambda: UserExport.objects.filter(pk=job.pk, status="finished").exists(), "export")
    download = acme_browser.post(reverse("imports:export_download", args=[job.pk]))

    assert response["Location"] == reverse("imports:export_status", args=[job.pk])
    assert len(rows_of(download.content)) == 524
