"""The run page in each state, its live progress, its rows table and its downloads."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from imports.models import ImportRow, ImportRun


def make_run(company, **fields) -> ImportRun:
    defaults = {"source": "upload", "file_name": "people.csv", "mode": "upsert"}
    return ImportRun.objects.create(company=company, **(defaults | fields))


def add_rows(run: ImportRun, count: int, **fields) -> None:
    start = run.rows.count() + 2
    ImportRow.objects.bulk_create(
        ImportRow(
            run=run,
            line=line,
            email=f"person{line}@alpha.example",
            first_name="Person",
            last_name=str(line),
            **({"action": "create", "status": "pending"} | fields),
        )
        for line in range(start, start + count)
    )


def test_a_file_being_checked_shows_a_message_that_refreshes_itself(browser_a, company_a):
    run = make_run(company_a, status="validating")

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert "Checking your file..." in content
    assert f'hx-get="{reverse("imports:progress", args=[run.pk])}?status=validating"' in content
    assert 'hx-trigger="every 1s"' in content


def test_a_file_still_checked_while_its_first_changes_are_sent_says_both_without_cancel(
    browser_a, company_a
):
    run = make_run(company_a, status="running", planning=True, rows_done=12)
    progress = reverse("imports:progress", args=[run.pk])

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()
    # The plan stored: the same page's live part asks for the whole page again.
    while_checking = browser_a.get(f"{progress}?status=validating", HTTP_HX_REQUEST="true")
    ImportRun.objects.filter(pk=run.pk).update(planning=False, rows_total=40)
    after = browser_a.get(f"{progress}?status=validating", HTTP_HX_REQUEST="true")

    assert "Checking your file" in content
    assert "Changes already confirmed are being sent: 12 done so far." in content
    assert f'hx-get="{progress}?status=validating"' in content
    assert f'action="/imports/{run.pk}/cancel/"' not in content
    assert while_checking.status_code == 200
    assert after.status_code == 204
    assert after["HX-Refresh"] == "true"


def test_the_preview_shows_counts_changes_errors_and_the_two_buttons(browser_a, company_a):
    run = make_run(
        company_a,
        status="planned",
        dry_run=True,
        rows_total=3,
        count_create=1,
        count_update=1,
        count_error=1,
        encoding="utf-8-sig",
        delimiter=";",
        has_header=True,
        quotechar='"',
    )
    add_rows(run, 1)
    add_rows(
        run,
        1,
        action="update",
        changes={"lastName": ["Martin", "Martin-Durand"], "active": [False, True]},
    )
    add_rows(
        run,
        1,
        action="error",
        status="error",
        errors=[{"line": 4, "column": "languageCode", "value": "klingon", "message": "Unknown."}],
    )

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert "UTF-8 with BOM, semicolon-separated" in content
    assert "header line" in content
    assert f'action="/imports/{run.pk}/apply/"' in content
    assert f'action="/imports/{run.pk}/discard/"' in content
    assert "Last name:" in content
    assert '<span class="old">Martin</span>' in content
    assert '<span class="new">Martin-Durand</span>' in content
    assert '<span class="old">no</span>' in content
    assert (
        "Line 4, column <code>languageCode</code> (value <code>klingon</code>): Unknown." in content
    )
    assert "<strong>1</strong> with errors" in content


def test_the_rows_are_paged_fifty_at_a_time_and_filtered(browser_a, company_a):
    run = make_run(company_a, status="planned", dry_run=True, rows_total=130)
    add_rows(run, 120)
    add_rows(run, 10, action="error", status="error", errors=[])
    url = reverse("imports:run", args=[run.pk])

    first = browser_a.get(url).content.decode()
    third = browser_a.get(url + "?page=3").content.decode()
    errors = browser_a.get(url + "?show=errors").content.decode()

    assert first.count("@alpha.example") == 50
    assert "Page 1 of 3" in first
    assert third.count("@alpha.example") == 30
    assert errors.count("@alpha.example") == 10
    assert "person2@alpha.example" not in errors
    assert "person122@alpha.example" in errors


def test_the_rows_fragment_answers_one_page_of_one_filter(browser_a, company_a):
    run = make_run(company_a, status="planned", dry_run=True, rows_total=60)
    add_rows(run, 55)
    add_rows(run, 5, action="unchanged", status="done")

    response = browser_a.get(
        reverse("imports:rows", args=[run.pk]) + "?show=unchanged", HTTP_HX_REQUEST="true"
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="rows">')
    assert "<html" not in content
    assert content.count("@alpha.example") == 5


def test_a_running_import_shows_live_progress_and_cancel(browser_a, company_a):
    run = make_run(
        company_a,
        status="running",
        rows_total=1000,
        rows_done=300,
        count_unchanged=100,
        count_create=900,
        started_at=timezone.now() - timedelta(seconds=20),
    )

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert '<progress max="1000" value="300"' in content
    # 200 rows sent in 20 s: 10 a second, 700 left: about 2 minutes.
    assert "300 of 1000 rows done (30%) · 10.0 rows per second · about 2 min left" in content
    assert f'action="/imports/{run.pk}/cancel/"' in content


def test_the_progress_fragment_reads_only_the_run(
    browser_a, company_a, django_assert_max_num_queries
):
    run = make_run(
        company_a,
        status="running",
        rows_total=5000,
        rows_done=2500,
        started_at=timezone.now() - timedelta(seconds=50),
    )
    add_rows(run, 200)
    url = reverse("imports:progress", args=[run.pk]) + "?status=running"

    with django_assert_max_num_queries(4) as queries:
        response = browser_a.get(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "2500 of 5000 rows done (50%)" in response.content.decode()
    assert not [q for q in queries.captured_queries if "imports_importrow" in q["sql"]]


def test_the_progress_fragment_asks_for_a_reload_when_the_run_moves_on(browser_a, company_a):
    run = make_run(company_a, status="finished", finished_at=timezone.now())

    response = browser_a.get(
        reverse("imports:progress", args=[run.pk]) + "?status=running", HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"


def test_an_ended_import_shows_its_result_counts_and_downloads(browser_a, company_a):
    now = timezone.now()
    run = make_run(
        company_a,
        status="finished",
        rows_total=4,
        rows_done=4,
        rows_failed=2,
        count_create=2,
        count_unchanged=1,
        count_error=1,
        log_csv=b"line\r\n",
        failed_rows_csv="email\r\n",
        started_at=now,
        finished_at=now,
    )
    add_rows(run, 2, status="done")
    add_rows(run, 1, action="unchanged", status="done")
    add_rows(run, 1, status="error", message="Selected role is not existing.", transient=False)

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert 'aria-label="X: at least one error"' in content
    assert "<strong>4</strong> of 4 processed" in content
    assert "<strong>2</strong> done" in content
    assert "<strong>2</strong> with errors" in content
    assert "1 in the file, 1 refused or failed when sent, 0 not sent" in content
    assert reverse("imports:log", args=[run.pk]) in content
    assert reverse("imports:failed_rows", args=[run.pk]) in content
    assert "Selected role is not existing." in content
    assert "Retry failed rows" not in content


def test_retry_is_offered_only_for_rows_that_failed_for_a_passing_reason(browser_a, company_a):
    now = timezone.now()
    run = make_run(
        company_a, status="finished", rows_total=1, rows_done=1, rows_failed=1, finished_at=now
    )
    add_rows(run, 1, status="error", transient=True, payload='{"line": 2}')

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert f'action="/imports/{run.pk}/retry/"' in content
    assert "Download the failed rows" not in content


def test_a_file_level_failure_is_shown_in_words(browser_a, company_a):
    run = make_run(
        company_a,
        status="failed",
        error="Line 3: this line has 12 values; a line needs 19.",
        finished_at=timezone.now(),
    )

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert "The import stopped." in content
    assert "Line 3: this line has 12 values; a line needs 19." in content
    assert 'aria-label="X: at least one error"' in content


@pytest.mark.parametrize(
    ("name", "field", "value", "expected"),
    [
        ("imports:log", "log_csv", b"\xef\xbb\xbfline,email\r\n2,=cmd\r\n", b"2,=cmd"),
        ("imports:failed_rows", "failed_rows_csv", '\ufeff"email"\r\n', b'"email"'),
    ],
)
def test_downloads_are_csv_attachments_never_pages(
    browser_a, company_a, name, field, value, expected
):
    run = make_run(company_a, status="finished", finished_at=timezone.now(), **{field: value})

    response = browser_a.get(reverse(name, args=[run.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert expected in response.content


def test_a_download_that_does_not_exist_yet_says_so(browser_a, company_a):
    run = make_run(company_a, status="running")

    response = browser_a.get(reverse("imports:log", args=[run.pk]))

    assert response.status_code == 404
    assert b"The log is written when the import ends." in response.content


def test_the_log_reads_back_as_csv(browser_a, company_a):
    log = "\ufeffline,email,result\r\n2,ana@alpha.example,OK\r\n".encode()
    run = make_run(company_a, status="finished", finished_at=timezone.now(), log_csv=log)

    response = browser_a.get(reverse("imports:log", args=[run.pk]))

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["line", "email", "result"], ["2", "ana@alpha.example", "OK"]]
