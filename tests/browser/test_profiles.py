"""The import profile page in the browser: a sample export's headers, the mapping with value map
rows, the live preview of its first rows with their errors, saving, then an upload with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from imports.models import ImportProfile
from tests.browser.checks import assert_accessible
from tests.browser.test_imports import counts
from tests.imports.test_profiles import hr_export as bamboohr_export

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def hr_export(tmp_path: Path) -> Path:
    """BambooHR's export: Alice (her last name changed), a new hire, a row without email."""
    path = tmp_path / "bamboohr.csv"
    path.write_bytes(bamboohr_export(**{"Job Title": "Engineer", "Country": "Deutschland"}))
    return path


def preview_row(page: Page, line: int):
    return page.locator("#preview tbody tr", has=page.locator(f"td:text-is('{line}')"))


def test_a_profile_is_mapped_with_a_live_preview_saved_and_used_for_an_upload(
    admin_page, screens, hr_export, celery_worker
):
    page = admin_page
    page.goto("/profiles/")
    screens.take(page, "profiles")
    page.get_by_role("link", name="New profile").click()
    page.locator("#id_name").fill("BambooHR")

    page.set_input_files("#id_sample_file", str(hr_export))

    # The headers fill the choices, with guesses; the preview shows the sample's rows.
    expect(page.locator("#id_email-source")).to_have_value("Work Email")
    expect(page.locator("#id_externalData-source")).to_have_value("Employee #")
    expect(page.locator("#preview-summary")).to_contain_text("3 rows")
    role = page.locator("#field-systemRoleId")
    expect(preview_row(page, 2)).to_contain_text('Selected role "Recruiter" does not exist')
    screens.take(page, "guessed")

    # A value map row and a default for the role; the preview follows by itself.
    role.locator("input[name='systemRoleId-map-from']").first.fill("Recruiter")
    role.locator("input[name='systemRoleId-map-to']").first.fill("STANDARD")
    role.locator("input[name='systemRoleId-default']").fill("EMPLOYEE")
    role.get_by_role("button", name="Add a row").click()
    expect(role.locator("input[name='systemRoleId-map-from']")).to_have_count(2)
    page.locator("#id_accessGroupId-source").select_option("")

    expect(page.locator("#preview-summary")).to_contain_text("3 rows, 1 with errors")
    expect(preview_row(page, 2)).to_contain_text("STANDARD")
    expect(preview_row(page, 3)).to_contain_text("EMPLOYEE")
    expect(preview_row(page, 3)).to_contain_text("DE")  # Deutschland, through the transform
    missing = preview_row(page, 4).locator("[data-column='Work Email']")
    expect(missing).to_have_text("Work Email is empty (mapped to email).")
    screens.take(page, "preview")
    page.locator("h1").click()  # Tab from the top of the page, not from the last field used
    assert_accessible(page, page.get_by_role("button", name="Save the profile"))

    page.get_by_role("button", name="Save the profile").click()

    expect(page.get_by_text('The import profile "BambooHR" is saved.')).to_be_visible()
    saved = ImportProfile.objects.get(name="BambooHR")
    assert saved.spec["fields"]["systemRoleId"] == {
        "column": "Job Title",
        "map": {"Recruiter": "STANDARD"},
        "default": "EMPLOYEE",
    }
    assert saved.spec["fields"]["firstName"] == {"column": ["Preferred Name", "First Name"]}
    screens.take(page, "saved")

    page.goto("/imports/new/")
    page.locator("#id_profile").select_option(label="BambooHR")
    page.set_input_files("#id_file", str(hr_export))
    page.get_by_role("button", name="Upload").click()

    expect(page.get_by_role("heading", name="What will happen")).to_be_visible()
    assert (
        counts(page) == "1 to create 1 to update 0 unchanged 1 with errors in the file (not sent)"
    )
    rows = page.locator("#rows")
    expect(rows).to_contain_text("column Work Email")
    expect(rows).to_contain_text("Work Email is empty (mapped to email).")
    expect(page.locator("dd", has_text="BambooHR")).to_be_visible()
    screens.take(page, "upload preview")
