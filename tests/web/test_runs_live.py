"""Imports through the pages with a real worker and the emulator: preview, apply, discard,
cancel, retry, and the downloads of what happened."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.csvfile import COLUMNS
from imports.models import ImportRun
from tests.imports.runs.conftest import SAMPLES
from tests.web.conftest import wait_for, wait_for_run

pytestmark = pytest.mark.integration

ERRORS_SAMPLE_COLUMNS = {
    2: "email",
    3: "firstName",
    4: "systemRoleId",
    5: "languageCode",
    6: "active",
    7: "countryCode",
    8: "city",
    9: "countryCode",
    10: "accessGroupId",
    12: "email",
    13: "ssoIdentifier",
}


def users_file(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {"systemRoleId": "EMPLOYEE", "languageCode": "en", "active": "true"}
            | {"enabled": "true"}
            | row
        )
    return out.getvalue().encode()


def new_people(count: int) -> list[dict]:
    return [
        {"email": f"new.person{i}@acme.example", "firstName": "New", "lastName": f"Person {i}"}
        for i in range(count)
    ]


def upload(browser, content: bytes, *, preview: bool, mode: str = "upsert", **fields: str) -> int:
    response = browser.post(
        reverse("imports:new"),
        {
            "file": SimpleUploadedFile("people.csv", content, content_type="text/csv"),
            "mode": mode,
            "header": "auto",
            "delimiter": "auto",
            "quotechar": "auto",
            "encoding": "auto",
            "preview": "on" if preview else "",
            **fields,
        },
    )
    assert response.status_code == 302, response.content[:500]
    return ImportRun.objects.latest("created_at").pk


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_errors_sample_is_previewed_by_line_and_column_then_applied(
    acme_browser, emulator, celery_worker
):
    run_id = upload(acme_browser, (SAMPLES / "errors.csv").read_bytes(), preview=True)

    run = wait_for_run(run_id, "planned", "failed")
    run_url = reverse("imports:run", args=[run_id])
    preview = acme_browser.get(run_url + "?show=errors").content.decode()
    everything = acme_browser.get(run_url).content.decode()

    assert run.status == "planned", run.error
    for line, column in ERRORS_SAMPLE_COLUMNS.items():
        assert f"Line {line}, column <code>{column}</code>" in preview
    assert "(value <code>klingon</code>)" in preview
    assert "x9@acme.example" in everything
    assert "x9@acme.example" not in preview
    assert emulator.user("x9@acme.example") is None

    acme_browser.post(reverse("imports:apply", args=[run_id]))
    run = wait_for_run(run_id, "finished", "failed")
    page = acme_browser.get(run_url).content.decode()
    log = acme_browser.get(reverse("imports:log", args=[run_id]))
    failed = acme_browser.get(reverse("imports:failed_rows", args=[run_id]))

    assert run.status == "finished"
    assert 'aria-label="X: at least one error"' in page
    assert emulator.user("x9@acme.example") is not None
    assert emulator.user("x1@acme.example") is None
    log_rows = csv_rows(log.content)
    assert log_rows[0][:6] == ["line", "email", "firstName", "lastName", "action", "result"]
    assert [row[5] for row in log_rows[1:]].count("OK") == 1
    assert len(log_rows) == 13
    failed_rows = csv_rows(failed.content)
    assert failed_rows[0] == list(COLUMNS)
    assert [row[0] for row in failed_rows[1:]][:2] == ["not-an-email", "x1@acme.example"]
    assert len(failed_rows) == 12
    assert "Retry failed rows" not in page


def test_a_discarded_preview_changes_nothing(acme_browser, emulator, celery_worker):
    run_id = upload(acme_browser, (SAMPLES / "users-basic.csv").read_bytes(), preview=True)
    wait_for_run(run_id, "planned")
    emulator.clear_stats()

    preview = acme_browser.get(reverse("imports:run", args=[run_id])).content.decode()
    response = acme_browser.post(reverse("imports:discard", args=[run_id]), follow=True)

    assert '<span class="new">Martin-Durand</span>' in preview
    assert b"nothing was changed" in response.content
    assert ImportRun.objects.get(pk=run_id).status == "discarded"
    assert emulator.user("alice.martin@acme.example")["lastName"] == "Martin"
    assert emulator.user("new.hire1@acme.example") is None
    writes = [call for call in emulator.stats()["requests"] if not call.startswith("GET")]
    assert writes == []


def test_passwords_from_the_file_are_never_shown_or_downloaded(
    acme_browser, emulator, celery_worker
):
    content = users_file(
        [
            {"email": "kept.secret@acme.example", "firstName": "Kim", "lastName": "Kept"},
            {
                "email": "bad.language@acme.example",
                "firstName": "Lou",
                "lastName": "Lang",
                "languageCode": "klingon",
            },
        ]
    )
    content = content.replace(b",en,,,true", b",en,,Xq7-first-secret,true", 1)
    content = content.replace(b",klingon,,,", b",klingon,,Yz9-second-secret,", 1)
    secrets = ("Xq7-first-secret", "Yz9-second-secret")
    run_id = upload(acme_browser, content, preview=True)
    wait_for_run(run_id, "planned")
    run_url = reverse("imports:run", args=[run_id])
    pages = [acme_browser.get(run_url), acme_browser.get(reverse("imports:rows", args=[run_id]))]

    acme_browser.post(reverse("imports:apply", args=[run_id]))
    wait_for_run(run_id, "finished")
    pages += [
        acme_browser.get(run_url),
        acme_browser.get(reverse("imports:log", args=[run_id])),
        acme_browser.get(reverse("imports:failed_rows", args=[run_id])),
    ]

    assert b"kept.secret@acme.example" in pages[0].content
    assert b"bad.language@acme.example" in pages[-1].content
    for response in pages:
        for secret in secrets:
            assert secret.encode() not in response.content
    assert emulator.user("kept.secret@acme.example") is not None


def test_a_running_import_shows_progress_can_be_cancelled_and_its_rows_retried(
    acme_browser, emulator, celery_worker
):
    emulator.faults(latency_ms=150)
    run_id = upload(acme_browser, users_file(new_people(40)), preview=False)
    wait_for_run(run_id, "running")
    progress = acme_browser.get(
        reverse("imports:progress", args=[run_id]) + "?status=running", HTTP_HX_REQUEST="true"
    )

    cancelled = acme_browser.post(reverse("imports:cancel", args=[run_id]), follow=True)
    wait_for(
        lambda: ImportRun.objects.filter(pk=run_id, finished_at__isnull=False).exists(),
        "the cancelled run to end",
    )
    run = ImportRun.objects.get(pk=run_id)
    page = acme_browser.get(reverse("imports:run", args=[run_id])).content.decode()

    assert b"of 40 rows done" in progress.content
    assert b"The import was cancelled." in cancelled.content
    assert run.status == "cancelled"
    assert run.rows_skipped > 0
    assert "This import was cancelled." in page
    assert 'aria-label="X: at least one error"' in page
    assert "Retry failed rows" in page
    skipped = run.rows_skipped

    emulator.faults()
    retried = acme_browser.post(reverse("imports:retry", args=[run_id]), follow=True)
    run = wait_for_run(run_id, "finished")
    wait_for(lambda: ImportRun.objects.get(pk=run_id).finished_at is not None, "the retry")
    run.refresh_from_db()

    assert f"{skipped} rows are being sent again.".encode() in retried.content
    assert run.result == "V"
    created = [emulator.user(f"new.person{i}@acme.example") for i in range(40)]
    assert all(user is not None and user["active"] for user in created)
