"""Undo in the browser: an applied import is undone from its page, previewed row by row, then
applied, and SmartRecruiters is back the way it was."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from imports.models import ImportRun
from tests.browser.checks import assert_accessible
from tests.imports.runs.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ALICE = "alice.martin@acme.example"
CARLA = "carla.ruiz@acme.example"
NEW_HIRES = [f"new.hire{i}@acme.example" for i in range(1, 5)]


def test_an_import_is_undone_from_its_page_preview_then_apply(
    admin_page, screens, emulator, celery_worker
):
    page = admin_page
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(SAMPLES / "users-basic.csv"))
    page.get_by_label("Preview before applying").uncheck()
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("img", name="V: no errors")).to_be_visible(timeout=60_000)
    original = ImportRun.objects.get()
    assert emulator.user(ALICE)["lastName"] == "Martin-Durand"
    assert emulator.user(CARLA)["active"]

    card = page.locator("#undo")
    expect(card).to_contain_text("Users this import created are deactivated: SmartRecruiters")
    expect(page.locator("#undo-until")).to_contain_text("This import can be undone until")
    screens.take(page, "the import and its undo")
    undo_button = page.get_by_role("button", name="Undo this import")
    assert_accessible(page, undo_button)

    undo_button.click()

    expect(page.locator("#undoes")).to_contain_text(f"This import undoes import {original.pk}")
    expect(page.get_by_role("button", name="Apply")).to_be_visible(timeout=60_000)
    alice = page.locator("#rows tbody tr", has_text=ALICE)
    expect(alice.locator(".change .old")).to_have_text("Martin-Durand")
    expect(alice.locator(".change .new")).to_have_text("Martin")
    new_hire = page.locator("#rows tbody tr", has_text=NEW_HIRES[0])
    expect(new_hire).to_contain_text("SmartRecruiters cannot delete users, so it is deactivated.")
    screens.take(page, "the undo previewed")
    assert emulator.user(ALICE)["lastName"] == "Martin-Durand"  # nothing changed yet
    assert_accessible(page, page.get_by_role("button", name="Apply"))

    page.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("img", name="V: no errors")).to_be_visible(timeout=60_000)
    screens.take(page, "the undo applied")
    assert emulator.user(ALICE)["lastName"] == "Martin"
    assert not emulator.user(CARLA)["active"]
    assert not any(emulator.user(email)["active"] for email in NEW_HIRES)
    undo = ImportRun.objects.get(undoes=original)
    assert (undo.source, undo.result) == ("undo", "V")

    page.get_by_role("link", name=f"import {original.pk}").first.click()
    expect(page.locator("#undo")).to_contain_text(f"Undone by import {undo.pk} (finished).")
    screens.take(page, "the import undone")
