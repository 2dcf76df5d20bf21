"""Full sync on the pages: the upload option, the run page's people missing from the file, the
held deactivations and Allow, and the company's full sync settings in the admin."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from imports.models import ImportRow, ImportRun
from imports.services.intake import CREATE_CANNOT_DEACTIVATE
from tests.fixtures.companies import PROTECTED as ALICE
from tests.fixtures.companies import connect_acme_for_full_sync
from tests.imports.runs.files import DOMAIN, csv_bytes, person
from tests.web.conftest import wait_for, wait_for_run

HELD_WORDS = (
    "55 people are not in this file; the limit is 10. Nothing was deactivated. Check the file, "
    "then allow these deactivations."
)
LEFT_ALONE = {"administrators": 2, "protected addresses": 1}


def upload(browser, content: bytes, **fields):
    data = {
        "file": SimpleUploadedFile("people.csv", content, content_type="text/csv"),
        "mode": "upsert",
        "missing": "keep",
        "header": "auto",
        "delimiter": "auto",
        "quotechar": "auto",
        "encoding": "auto",
        "preview": "on",
        **fields,
    }
    return browser.post(reverse("imports:new"), data)


def held_run(company, **fields) -> ImportRun:
    """An ended full sync that held its 55 deactivations (limit 10) and updated one person."""
    defaults = {
        "source": "upload",
        "file_name": "people.csv",
        "mode": "upsert",
        "missing": "deactivate",
        "deactivation_limit": 10,
        "status": "finished",
        "started_at": timezone.now(),
        "finished_at": timezone.now(),
        "rows_total": 56,
        "rows_done": 56,
        "count_update": 1,
        "count_deactivate": 55,
        "held": 55,
        "left_alone": LEFT_ALONE,
    }
    run = ImportRun.objects.create(company=company, **(defaults | fields))
    ImportRow.objects.create(
        run=run, line=2, email="kept@alpha.example", action="update", status="done"
    )
    ImportRow.objects.bulk_create(
        ImportRow(
            run=run,
            line=None,
            email=f"gone{i}@alpha.example",
            first_name="Gone",
            last_name=str(i),
            action="deactivate",
            status="held",
            sr_user_id=f"gone-{i}",
            message="Held, not deactivated: " + HELD_WORDS,
        )
        for i in range(55)
    )
    return run


# The upload page


def test_the_form_offers_keep_them_by_default_and_deactivate_them(browser_a):
    content = browser_a.get(reverse("imports:new")).content.decode()

    assert "People missing from the file" in content
    assert 'name="missing" value="keep"' in content
    assert 'value="keep" id="id_missing_0" checked' in content
    assert 'value="deactivate" id="id_missing_1"' in content
    assert "Deactivate them when the file lists everyone who works at the company today" in content


def test_deactivate_them_is_passed_to_the_run(browser_a):
    response = upload(browser_a, csv_bytes([person(0)]), mode="update", missing="deactivate")

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert (run.mode, run.missing) == ("update", "deactivate")


def test_keep_them_is_the_choice_when_none_is_sent(browser_a):
    data = {"missing": ""}
    upload(browser_a, csv_bytes([person(0)]), **data)

    assert ImportRun.objects.get().missing == "keep"


def test_create_with_deactivate_them_is_refused_in_words_and_the_choices_are_kept(browser_a):
    response = upload(
        browser_a,
        csv_bytes([person(0)]),
        mode="create",
        missing="deactivate",
        delimiter=";",
        preview="",
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert escape(CREATE_CANNOT_DEACTIVATE) in content
    assert "Traceback" not in content
    assert not ImportRun.objects.exists()
    # The person's choices come back as they made them.
    assert 'value="create" id="id_mode_0" required checked' in content
    assert 'value="deactivate" id="id_missing_1" aria-invalid="true" checked' in content
    assert '<option value=";" selected>' in content
    assert 'id="id_preview" checked' not in content
    assert "choose the file again" in content


# The run page


def test_a_full_sync_run_shows_who_is_not_in_the_file_and_who_was_left_alone(browser_a, company_a):
    run = held_run(company_a, held=0, status="planned", dry_run=True, finished_at=None)
    run.rows.filter(status="held").update(status="pending", message="")

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert "<strong>55</strong> to deactivate (not in the file)" in content
    assert (
        "3 people missing from the file were left alone, never deactivated: administrators (2), "
        "protected addresses (1)." in content
    )
    assert content.count('<span class="sr-only">not in the file</span>') == 49  # after line 2
    assert "gone0@alpha.example" in content
    assert "Deactivate (not in the file)" in content
    assert "Deactivations held" not in content
    assert "at most 10 in this import" in content


def test_a_run_that_keeps_the_missing_says_nothing_of_them(browser_a, company_a):
    run = held_run(company_a, missing="keep", held=0, count_deactivate=0, left_alone={})
    run.rows.filter(line=None).delete()

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert "not in the file" not in content
    assert "left alone" not in content
    assert "?show=held" not in content


def test_a_held_run_shows_the_banner_the_allow_button_and_the_held_filter(browser_a, company_a):
    run = held_run(company_a)
    url = reverse("imports:run", args=[run.pk])

    content = browser_a.get(url).content.decode()
    held = browser_a.get(url + "?show=held").content.decode()

    assert "Deactivations held." in content
    assert HELD_WORDS in content
    assert 'aria-label="X: at least one error"' in content
    allow = reverse("imports:allow_deactivations", args=[run.pk])
    form = content.split(f'action="{allow}"')[1].split("</form>")[0]
    assert "csrfmiddlewaretoken" in form
    assert "Allow these deactivations" in form
    assert "<strong>55</strong> held (not deactivated)" in content
    assert "<strong>1</strong> done" in content
    assert held.count("gone") == 50
    assert "kept@alpha.example" not in held


def test_a_held_preview_says_apply_first(browser_a, company_a):
    run = held_run(company_a, status="planned", dry_run=True, finished_at=None)

    content = browser_a.get(reverse("imports:run", args=[run.pk])).content.decode()

    assert HELD_WORDS in content
    assert "these deactivations wait until you allow them" in content
    assert "Allow these deactivations</button>" not in content


def test_allow_needs_the_pages_csrf_token(member_a, company_a):
    run = held_run(company_a)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(member_a)

    response = browser.post(reverse("imports:allow_deactivations", args=[run.pk]))

    assert response.status_code == 403
    assert ImportRun.objects.get(pk=run.pk).held == 55


def test_another_companys_run_cannot_be_allowed(browser_b, company_a):
    run = held_run(company_a)

    response = browser_b.post(reverse("imports:allow_deactivations", args=[run.pk]))

    assert response.status_code == 404
    assert ImportRun.objects.get(pk=run.pk).held == 55
    assert run.rows.filter(status="held").count() == 55


def test_allow_when_smartrecruiters_cannot_be_read_says_so_and_changes_nothing(
    browser_a, company_a
):
    run = held_run(company_a)  # Alpha's SmartRecruiters address answers nothing

    response = browser_a.post(reverse("imports:allow_deactivations", args=[run.pk]), follow=True)

    content = response.content.decode()
    assert "Nothing was deactivated. " in content
    assert "SmartRecruiters" in content.split("Nothing was deactivated. ")[1].split("<")[0]
    assert "Traceback" not in content
    assert ImportRun.objects.get(pk=run.pk).held == 55
    assert run.rows.filter(status="held").count() == 55


def test_allow_on_a_run_with_nothing_held_says_so(browser_a, company_a):
    run = held_run(company_a, held=0)

    response = browser_a.post(reverse("imports:allow_deactivations", args=[run.pk]), follow=True)

    assert b"This import has no deactivations waiting to be allowed." in response.content


# A real full sync through the pages


@pytest.fixture
def acme(emulator, transactional_db):
    return connect_acme_for_full_sync(emulator)


@pytest.mark.integration
def test_a_truncated_file_holds_its_deactivations_until_allowed_on_the_page(
    acme_browser, emulator, celery_worker
):
    truncated = csv_bytes([person(i) for i in range(5)])
    upload(acme_browser, truncated, missing="deactivate", preview="")
    run = wait_for_run(ImportRun.objects.get().pk, "finished", "failed")
    url = reverse("imports:run", args=[run.pk])

    page = acme_browser.get(url).content.decode()

    assert (run.status, run.held, run.deactivation_limit) == ("finished", 55, 10), run.error
    assert "55 people are not in this file; the limit is 10. Nothing was deactivated." in page
    assert "Allow these deactivations" in page
    assert (
        "2 people missing from the file were left alone, never deactivated: protected addresses "
        "(1), the company's SmartRecruiters credential user (1)."
    ) in page.replace("&#x27;", "'")
    assert all(emulator.user(f"user{i:05d}@{DOMAIN}")["active"] for i in range(60))

    allowed = acme_browser.post(reverse("imports:allow_deactivations", args=[run.pk]), follow=True)
    run = wait_for_run(run.pk, "finished")
    wait_for_run_end(run)
    page = acme_browser.get(url).content.decode()
    missing = acme_browser.get(url + "?show=deactivate").content.decode()

    assert b"55 deactivations are being sent to SmartRecruiters." in allowed.content
    assert not any(emulator.user(f"user{i:05d}@{DOMAIN}")["active"] for i in range(5, 60))
    assert all(emulator.user(f"user{i:05d}@{DOMAIN}")["active"] for i in range(5))
    assert emulator.user(ALICE)["active"]
    assert emulator.user("admin@acme.example")["active"]
    assert (run.result, run.held) == ("V", 0)
    assert "Deactivations held" not in page
    assert 'aria-label="V: no errors"' in page
    assert missing.count("Deactivated: not in the file.") == 50
    # The whole file's page (read from the run's log) lists each of them, not one 45 times.
    assert page.count("Deactivated: not in the file.") == 45
    assert all(f"user{i:05d}@{DOMAIN}" in page for i in range(5, 50))
    assert "Page 1 of 2" in missing


def wait_for_run_end(run: ImportRun) -> None:
    def ended() -> bool:
        run.refresh_from_db()
        return run.finished_at is not None

    wait_for(ended, "the allowed deactivations to be sent")


# The company's settings (operators)


def admin_form(company, **overrides) -> dict:
    data = {
        "name": company.name,
        "slug": company.slug,
        "enabled": "on",
        "api_url": company.api_url,
        "credential_type": company.credential_type,
        "new_api_key": "",
        "oauth_client_id": "",
        "new_oauth_client_secret": "",
        "rate_limit_rps": company.rate_limit_rps,
        "rate_limit_concurrency": company.rate_limit_concurrency,
        "missing_limit_count": "10",
        "missing_limit_percent": "5",
        "protected_emails": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_the_company_admin_has_the_full_sync_settings(admin_client, company_a):
    content = admin_client.get(
        reverse("admin:companies_company_change", args=[company_a.pk])
    ).content.decode()

    assert ">Full sync</h2>" in content
    for name in ("missing_limit_count", "missing_limit_percent", "missing_admins"):
        assert f'name="{name}"' in content
    assert 'name="missing_managed_only"' in content
    assert 'name="protected_emails"' in content


def test_the_full_sync_settings_are_saved(admin_client, company_a):
    response = admin_client.post(
        reverse("admin:companies_company_change", args=[company_a.pk]),
        admin_form(
            company_a,
            missing_limit_count="25",
            missing_limit_percent="",
            missing_admins="on",
            protected_emails=" ceo@alpha.example \n\nboard@alpha.example\n",
        ),
    )

    assert response.status_code == 302
    company_a.refresh_from_db()
    assert (company_a.missing_limit_count, company_a.missing_limit_percent) == (25, 5)
    assert (company_a.missing_admins, company_a.missing_managed_only) == (True, False)
    assert company_a.protected_email_set == {"ceo@alpha.example", "board@alpha.example"}


def test_a_protected_email_that_is_not_one_is_refused_with_its_line(admin_client, company_a):
    response = admin_client.post(
        reverse("admin:companies_company_change", args=[company_a.pk]),
        admin_form(company_a, protected_emails="ceo@alpha.example\nboard@\n\nmr nobody"),
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "line 2 (board@) is not an email address" in content
    assert "line 4 (mr nobody) is not an email address" in content
    assert "ceo@alpha.example" not in content.split("errorlist")[1].split("</ul>")[0]
    company_a.refresh_from_db()
    assert company_a.protected_emails == ""
