"""The help pages in the browser: the CSV format is a page to read, and its links lead somewhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.checks import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_the_csv_format_page_reads_as_a_page_and_links_to_roles_and_groups(
    admin_page, screens, emulator
):
    page = admin_page
    page.goto("/help/")
    page.get_by_role("link", name="The full description of the format").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("The CSV format")
    screens.take(page, "csv format")
    assert_accessible(page, page.get_by_role("link", name="Download a template file"))
    main = page.locator("main")
    for heading in ("The columns", "How the file is read", "Errors and what to do", "Examples"):
        expect(main.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    columns = main.get_by_role("region", name="The columns")
    expect(columns.get_by_role("row")).to_have_count(20)  # the header and 19 columns
    expect(main).not_to_contain_text("| --- |")
    expect(main).not_to_contain_text("manage.py")

    hrefs = page.eval_on_selector_all(
        "main a[href^='/']", "(links) => links.map((link) => link.getAttribute('href'))"
    )
    for href in sorted(set(hrefs)):
        assert page.request.get(href).status == 200, href

    columns.get_by_role("link", name="Roles & groups").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Roles & access groups")
    screens.take(page, "roles and groups")


def test_every_page_has_an_icon_and_favicon_ico_answers(admin_page, screens):
    page = admin_page
    page.goto("/help/")
    screens.take(page, "help")

    icons = page.eval_on_selector_all(
        "link[rel=icon]", "(links) => links.map((link) => link.getAttribute('href'))"
    )
    assert icons, "no icon named in the page"
    for href in [*icons, "/favicon.ico"]:
        response = page.request.get(href)
        assert response.status == 200, href
        assert response.headers["content-type"].startswith("image/"), href
