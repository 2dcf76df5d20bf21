"""Undo on the pages: the run page offers it while the audit is kept, makes the undo's preview,
links the two runs, and another company's admin gets 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from imports.models import ImportRow, ImportRun


@pytest.fixture
def applied(company_a) -> ImportRun:
    """An ended import of Alpha that changed one person's last name."""
    now = timezone.now()
    run = ImportRun.objects.create(
        company=company_a,
        source="upload",
        file_name="alpha-secret-names.csv",
        status="finished",
        rows_total=1,
        rows_done=1,
        count_update=1,
        started_at=now,
        finished_at=now,
    )
    ImportRow.objects.create(
        run=run,
        line=2,
        email="zoe@alpha.example",
        action="update",
        status="done",
        changes={"lastName": ["Old", "New"]},
        sr_user_id="u1",
    )
    return run


def test_the_page_offers_undo_until_the_audit_is_deleted(browser_a, applied, settings):
    settings.IMPORT_KEEP_RUNS_DAYS = 30

    page = browser_a.get(reverse("imports:run", args=[applied.pk])).content.decode()

    assert "Undo this import" in page
    until = applied.created_at + timedelta(days=30)
    assert f"This import can be undone until {until:%-d %b %Y}" in page
    assert "Users this import created are deactivated: SmartRecruiters cannot delete users." in page


def test_undo_makes_a_preview_linked_both_ways(
    browser_a, member_a, applied, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as sent:
        response = browser_a.post(
            reverse("imports:undo", args=[applied.pk]),
            {"emails": "Zoe@alpha.example", "force": "on"},
        )

    undo = ImportRun.objects.get(undoes=applied)
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:run", args=[undo.pk])
    assert len(sent) == 1  # its plan is sent to a worker
    assert (undo.source, undo.dry_run, undo.created_by) == ("undo", True, member_a)
    assert (undo.undo_emails, undo.undo_force) == (["zoe@alpha.example"], True)
    undo_page = browser_a.get(reverse("imports:run", args=[undo.pk])).content.decode()
    assert f'This import undoes <a href="{reverse("imports:run", args=[applied.pk])}">' in (
        undo_page
    )
    page = browser_a.get(reverse("imports:run", args=[applied.pk])).content.decode()
    assert (
        f'Undone by <a href="{reverse("imports:run", args=[undo.pk])}">import {undo.pk}</a>' in page
    )
    assert f"An undo of this import is already under way (import {undo.pk})" in page


def test_someone_the_import_did_not_change_is_refused_in_words(browser_a, applied):
    response = browser_a.post(
        reverse("imports:undo", args=[applied.pk]), {"emails": "max@alpha.example"}, follow=True
    )

    assert f"Import {applied.pk} changed no one with the email max@alpha.example" in (
        response.content.decode()
    )
    assert not ImportRun.objects.filter(undoes=applied).exists()


def test_an_import_that_changed_no_one_offers_no_undo(browser_a, applied):
    applied.rows.update(status="error")

    page = browser_a.get(reverse("imports:run", args=[applied.pk])).content.decode()

    assert "Undo this import" not in page


def test_a_preview_offers_no_undo(browser_a, applied):
    applied.dry_run = True
    applied.status = "planned"
    applied.finished_at = None
    applied.save()

    page = browser_a.get(reverse("imports:run", args=[applied.pk])).content.decode()

    assert "Undo this import" not in page


def test_another_company_gets_404_and_no_undo(browser_b, applied):
    response = browser_b.post(reverse("imports:undo", args=[applied.pk]), {})

    assert response.status_code == 404
    assert b"alpha-secret-names" not in response.content
    assert not ImportRun.objects.filter(undoes=applied).exists()


def test_another_company_cannot_open_an_undo(browser_a, browser_b, applied):
    browser_a.post(reverse("imports:undo", args=[applied.pk]), {})
    undo = ImportRun.objects.get(undoes=applied)

    for name in ("imports:run", "imports:rows"):
        assert browser_b.get(reverse(name, args=[undo.pk])).status_code == 404
    for name in ("imports:apply", "imports:discard", "imports:undo"):
        assert browser_b.post(reverse(name, args=[undo.pk])).status_code == 404
    assert ImportRun.objects.get(pk=undo.pk).status == "validating"
