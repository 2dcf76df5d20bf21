"""One vocabulary for a run's counts: rows processed (settled) and done (as the file asks),
errors counting refused and not sent rows; the bar shows what is done; previews say what will
happen; the check of a file says how far it is."""

from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from imports.services.checking import CheckRecorder
from tests.web.test_run_page import add_rows, make_run


def history_cells(content: str, file_name: str) -> list[str]:
    """The cells of the history's row for `file_name`, as text."""
    row = re.search(rf"<tr>((?:(?!</tr>).)*{re.escape(file_name)}.*?)</tr>", content, re.S)
    assert row, content
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_after_a_cancel_the_bar_shows_the_rows_done_not_the_rows_processed(browser_a, company_a):
    now = timezone.now()
    run = make_run(
        company_a,
        status="cancelled",
        rows_total=5000,
        rows_done=5000,
        rows_skipped=3280,
        count_create=5000,
        started_at=now - timedelta(minutes=17),
        finished_at=now,
    )
    add_rows(run, 2, status="done")

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert '<progress id="final-progress" max="5000" value="1720"' in content
    assert "1720 of 5000 rows done (34%) · 5000 of 5000 processed" in content
    assert "<strong>1720</strong> done" in content
    assert "<strong>3280</strong> with errors" in content
    assert "0 in the file, 0 refused or failed when sent, 3280 not sent" in content


def test_the_live_bar_shows_rows_done_and_says_how_many_were_processed(browser_a, company_a):
    run = make_run(
        company_a,
        status="running",
        rows_total=100,
        rows_done=60,
        rows_failed=10,
        count_create=100,
        started_at=timezone.now() - timedelta(seconds=30),
    )
    url = reverse("imports:progress", args=[run.pk]) + "?status=running"

    content = browser_a.get(url, HTTP_HX_REQUEST="true").content.decode()

    assert '<progress max="100" value="50"' in content
    assert "50 of 100 rows done (50%) · 60 processed, 10 with errors" in content


def test_history_counts_refused_and_not_sent_rows_as_errors_beside_the_x(browser_a, company_a):
    now = timezone.now()
    fine = {"status": "finished", "started_at": now, "finished_at": now, "rows_total": 3}
    make_run(company_a, file_name="fine.csv", rows_done=3, count_create=3, **fine)
    make_run(company_a, file_name="refused.csv", rows_done=3, rows_failed=1, count_create=3, **fine)
    make_run(
        company_a,
        file_name="cancelled.csv",
        **(fine | {"status": "cancelled"}),
        rows_done=3,
        rows_skipped=2,
        count_create=3,
    )

    content = browser_a.get(reverse("imports:history")).content.decode()

    # Result, When, Who, File, Mode, Create, Update, Unchanged, Done, Errors, Status
    assert [history_cells(content, "fine.csv")[i] for i in (0, 8, 9)] == ["V", "3", "0"]
    assert [history_cells(content, "refused.csv")[i] for i in (0, 8, 9)] == ["X", "2", "1"]
    assert [history_cells(content, "cancelled.csv")[i] for i in (0, 8, 9)] == ["X", "1", "2"]


def test_a_preview_says_what_will_happen_to_each_row_not_a_result(browser_a, company_a):
    run = make_run(company_a, status="planned", dry_run=True, rows_total=4, rows_done=2)
    add_rows(run, 1, action="create", message="Create the user. Role: Standard. No access group.")
    add_rows(run, 1, action="update", changes={"lastName": ["Martin", "Martin-Durand"]})
    add_rows(run, 1, action="unchanged", status="done")
    add_rows(run, 1, action="error", status="error", errors=[])

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()
    results = re.findall(
        r"<td>(Will create|Will update|No change|Error: will not be sent)</td>", content
    )

    assert results == ["Will create", "Will update", "No change", "Error: will not be sent"]
    assert "<td>OK</td>" not in content
    assert "<td>Done</td>" not in content
    assert "What will happen</th>" in content
    assert "Role: Standard. No access group." in content


def test_while_a_file_is_checked_the_page_says_how_far_it_is(browser_a, company_a):
    run = make_run(company_a, status="validating")
    url = reverse("imports:progress", args=[run.pk]) + "?status=validating"
    recorder = CheckRecorder(run.pk)

    before = browser_a.get(url, HTTP_HX_REQUEST="true").content.decode()
    recorder.record(users_listed=300, force=True)
    listing = browser_a.get(url, HTTP_HX_REQUEST="true").content.decode()
    recorder.record(rows_total=786, rows_checked=200, users_read_in_full=40, force=True)
    checking = browser_a.get(url, HTTP_HX_REQUEST="true").content.decode()
    recorder.forget()

    assert "Checking your file..." in before
    assert "Reading your company's users from SmartRecruiters: 300 read so far" in listing
    assert '<progress max="786" value="200"' in checking
    assert (
        "200 of 786 rows checked (25%) · 300 users read from SmartRecruiters, 40 of them in full"
        in checking
    )
