"""New import: the form, the upload (stored, never parsed in the request), the size limit."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportFileChunk, ImportRun
from tests.imports.runs.conftest import SAMPLES


def upload(browser, content: bytes, name: str = "people.csv", **fields):
    data = {
        "file": SimpleUploadedFile(name, content, content_type="text/csv"),
        "mode": "upsert",
        "header": "auto",
        "delimiter": "auto",
        "quotechar": "auto",
        "encoding": "auto",
        "preview": "on",
        **fields,
    }
    return browser.post(reverse("imports:new"), data)


def test_the_form_offers_every_option_with_detection_first(browser_a):
    content = browser_a.get(reverse("imports:new")).content.decode()

    for value in ("create", "update", "upsert"):
        assert f'value="{value}"' in content
    assert 'value="upsert" id="id_mode_2" required checked' in content
    for option in ('value="utf-16"', 'value="cp1252"', 'value="latin-1"', 'value="&#x27;"'):
        assert option in content
    assert 'id="id_preview" checked' in content


def test_the_form_tells_the_browser_the_size_limit(browser_a, settings):
    settings.IMPORT_MAX_FILE_BYTES = 3 * 1024 * 1024

    content = browser_a.get(reverse("imports:new")).content.decode()

    assert f'data-max-bytes="{3 * 1024 * 1024}"' in content
    assert 'data-max-words="3 MB"' in content
    assert 'accept=".csv,.txt,text/csv,text/plain"' in content
    assert "At most 3 MB." in content


def test_an_upload_creates_a_run_and_opens_its_page(browser_a, company_a, member_a):
    sample = (SAMPLES / "excel-utf8-bom-semicolon.csv").read_bytes()

    response = upload(
        browser_a,
        sample,
        name="excel.csv",
        mode="update",
        delimiter=";",
        quotechar='"',
        encoding="utf-8-sig",
        header="yes",
    )

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:run", args=[run.pk])
    assert (run.company, run.created_by, run.source) == (company_a, member_a, "upload")
    assert (run.mode, run.dry_run, run.file_name, run.status) == (
        "update",
        True,
        "excel.csv",
        "validating",
    )
    assert run.options == {
        "header": "yes",
        "delimiter": ";",
        "quotechar": '"',
        "encoding": "utf-8-sig",
    }
    assert run.file_size == len(sample)
    # Stored for the worker, not read here: no row exists yet.
    assert ImportFileChunk.objects.filter(run=run).exists()
    assert not run.rows.exists()


def test_without_preview_the_run_goes_straight_on(browser_a):
    data = {"preview": ""}
    upload(browser_a, (SAMPLES / "users-basic.csv").read_bytes(), **data)

    assert ImportRun.objects.get().dry_run is False


def test_a_form_without_a_file_says_what_is_missing(browser_a):
    response = browser_a.post(reverse("imports:new"), {"mode": "upsert", "preview": "on"})

    assert response.status_code == 200
    assert b"Choose the CSV file to import." in response.content
    assert not ImportRun.objects.exists()


def test_an_empty_file_is_refused_in_words(browser_a):
    response = upload(browser_a, b"")

    assert b"This file is empty" in response.content
    assert not ImportRun.objects.exists()


def test_a_file_over_the_limit_ends_its_run_with_the_reason(browser_a, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1024 * 1024

    upload(browser_a, b"email\n" + b"x" * (1024 * 1024 + 10))

    run = ImportRun.objects.get()
    assert run.status == "failed"
    assert not ImportFileChunk.objects.filter(run=run).exists()
    page = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()
    assert "The file is larger than 1 MB: split it into smaller files." in page


def test_a_large_file_is_stored_in_pieces_and_not_read(browser_a):
    header = b"email,firstName,lastName,systemRoleId,languageCode,active,enabled\n"
    line = b"person%06d@example.com,Firstname,Lastname-With-Some-Length,EMPLOYEE,en,true,true\n"
    content = header + b"".join(line % i for i in range(100_000))

    response = upload(browser_a, content, name="big.csv")

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert run.status == "validating"
    assert run.file_size == len(content)
    assert ImportFileChunk.objects.filter(run=run).count() > 1
    assert run.rows_total == 0
