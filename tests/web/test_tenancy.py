"""Each company sees only its own runs, logs, failed rows and exports: another's id is a 404."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from imports.models import ImportRow, ImportRun, UserExport
from tests.web.conftest import make_member, signed_in

LOG = b"\xef\xbb\xbfline,email,firstName,lastName,action,result,message,smartRecruitersId\r\n"
FAILED_ROWS = '\ufeff"email","firstName"\r\n"zoe@alpha.example","Zoe"\r\n'

# Every URL that takes an id: (name, method).
ID_URLS = [
    ("imports:run", "get"),
    ("imports:progress", "get"),
    ("imports:rows", "get"),
    ("imports:apply", "post"),
    ("imports:discard", "post"),
    ("imports:cancel", "post"),
    ("imports:retry", "post"),
    ("imports:undo", "post"),
    ("imports:log", "get"),
    ("imports:failed_rows", "get"),
    ("imports:export_status", "get"),
    ("imports:export_download", "post"),
]


@pytest.fixture
def alpha_things(company_a):
    """A finished run of Alpha with a log, failed rows and a transient failure, a planned run,
    and a finished export."""
    now = timezone.now()
    finished = ImportRun.objects.create(
        company=company_a,
        source="upload",
        file_name="alpha-secret-names.csv",
        status="finished",
        rows_total=1,
        rows_done=1,
        rows_skipped=1,
        log_csv=LOG,
        failed_rows_csv=FAILED_ROWS,
        started_at=now,
        finished_at=now,
    )
    ImportRow.objects.create(
        run=finished,
        line=2,
        email="zoe@alpha.example",
        action="create",
        status="skipped",
        transient=True,
        payload='{"line": 2}',
    )
    planned = ImportRun.objects.create(
        company=company_a, source="upload", status="planned", rows_total=0, dry_run=True
    )
    export = UserExport.objects.create(
        company=company_a, status="finished", content="email\r\nzoe@alpha.example\r\n"
    )
    return {"finished": finished, "planned": planned, "export": export}


def url_of(name: str, things: dict) -> str:
    if name.startswith("imports:export"):
        return reverse(name, args=[things["export"].pk])
    run = things["planned"] if name in ("imports:apply", "imports:discard") else things["finished"]
    query = f"?status={run.status}" if name == "imports:progress" else ""
    return reverse(name, args=[run.pk]) + query


@pytest.mark.parametrize(("name", "method"), ID_URLS)
def test_another_company_gets_404_for_every_id(browser_b, alpha_things, name, method):
    response = getattr(browser_b, method)(url_of(name, alpha_things))

    assert response.status_code == 404
    assert b"alpha-secret-names" not in response.content
    assert b"zoe@alpha.example" not in response.content


@pytest.mark.parametrize(("name", "method"), ID_URLS)
def test_the_company_itself_gets_the_same_urls(browser_a, alpha_things, name, method):
    response = getattr(browser_a, method)(url_of(name, alpha_things))

    assert response.status_code in (200, 204, 302), response.content[:300]


def test_another_companys_actions_change_nothing(browser_b, alpha_things):
    finished, planned, export = (alpha_things[key] for key in ("finished", "planned", "export"))

    browser_b.post(reverse("imports:apply", args=[planned.pk]))
    browser_b.post(reverse("imports:discard", args=[planned.pk]))
    browser_b.post(reverse("imports:retry", args=[finished.pk]))
    browser_b.post(reverse("imports:export_download", args=[export.pk]))

    planned.refresh_from_db()
    finished.refresh_from_db()
    export.refresh_from_db()
    assert planned.status == "planned"
    assert finished.status == "finished"
    assert ImportRow.objects.get(run=finished).status == "skipped"
    assert export.available


def test_a_member_of_both_companies_opens_a_run_of_the_other_one(
    django_user_model, company_a, company_b, alpha_things
):
    browser = signed_in(make_member(django_user_model, "both", company_a, company_b))
    browser.post(reverse("switch_company"), {"company": company_b.pk})

    response = browser.get(reverse("imports:run", args=[alpha_things["finished"].pk]))
    history = browser.get(reverse("imports:history"))

    assert response.status_code == 200
    assert b"alpha-secret-names.csv" in response.content
    # The header follows the run's company, and so does the rest of the visit.
    assert b"alpha-secret-names.csv" in history.content


def test_a_disabled_company_is_closed_to_its_members(browser_a, company_a, alpha_things):
    company_a.enabled = False
    company_a.save()

    response = browser_a.get(reverse("imports:run", args=[alpha_things["finished"].pk]))

    assert response.status_code == 403
    assert b"Your account is not linked to any company" in response.content
