"""A file that cannot be read, in the browser: the message says what is wrong and fits the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from imports.csvfile import COLUMNS
from tests.browser.checks import assert_accessible
from tests.imports.runs.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Wider than this, the page scrolls sideways (a 1280 px window).
PAGE_WIDER_THAN_WINDOW = "() => document.documentElement.scrollWidth > window.innerWidth"


def upload_with_options(page: Page, path, *, header: str, delimiter: str) -> None:
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(path))
    page.get_by_text("How the file is written").click()
    page.get_by_label("Header line").select_option(label=header)
    page.get_by_label("Delimiter").select_option(label=delimiter)
    page.get_by_role("button", name="Upload").click()


def test_a_semicolon_file_read_with_commas_is_named_as_such(admin_page, screens, celery_worker):
    page = admin_page
    page.set_viewport_size({"width": 1280, "height": 800})

    upload_with_options(
        page,
        SAMPLES / "excel-utf8-bom-semicolon.csv",
        header="Yes: the first line names the columns",
        delimiter="Comma ,",
    )

    stopped = page.get_by_role("alert").filter(has_text="The import stopped.")
    expect(stopped).to_contain_text(
        "The file seems to be separated by semicolons, not commas. Choose the semicolon as the "
        "delimiter in the options, or leave the delimiter to detect."
    )
    screens.take(page, "wrong delimiter")
    assert_accessible(page, None)
    assert not page.evaluate(PAGE_WIDER_THAN_WINDOW)


def test_a_long_unknown_column_name_does_not_widen_the_page(
    admin_page, screens, celery_worker, tmp_path
):
    page = admin_page
    page.set_viewport_size({"width": 1280, "height": 800})
    name = "Employee_" * 40
    sample = tmp_path / "long-header.csv"
    sample.write_text(f"{','.join(COLUMNS[:3])},{name}\na@acme.example,Ann,Lee,EMPLOYEE\n")

    upload_with_options(
        page, sample, header="Yes: the first line names the columns", delimiter="Comma ,"
    )

    stopped = page.get_by_role("alert").filter(has_text="The import stopped.")
    expect(stopped).to_contain_text("The header has unknown column names:")
    expect(stopped).to_contain_text("(360 characters)")
    screens.take(page, "long unknown column name")
    assert not page.evaluate(PAGE_WIDER_THAN_WINDOW)
