"""Roles & access groups (read live from SmartRecruiters) and Help (format, template, links)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import Resolver404, resolve, reverse

from imports.csvfile import COLUMNS, read_csv
from imports.logs import LOG_COLUMNS
from imports.rows import RowChecker, UserRow, check_records

HIRING_MANAGER_ID = "64b7f0c2a1d3e4f5a6b7c8d9"


@pytest.mark.integration
def test_roles_and_groups_are_listed_with_a_copy_button_per_id(acme_browser):
    response = acme_browser.get(reverse("imports:lists"))

    content = response.content.decode()
    assert response.status_code == 200
    assert "Hiring Manager" in content
    assert f'data-copy="{HIRING_MANAGER_ID}"' in content
    assert 'aria-label="Copy the id of Hiring Manager"' in content
    assert 'data-copy="ADMINISTRATOR"' in content
    assert "Engineering" in content
    assert 'data-copy="60497fe33e2b74a609b7e412"' in content
    assert "navigator.clipboard" in content
    assert 'aria-live="polite"' in content


@pytest.mark.integration
def test_each_list_downloads_as_csv(acme_browser):
    roles = acme_browser.get(reverse("imports:list_download", args=["roles"]))
    groups = acme_browser.get(reverse("imports:list_download", args=["access-groups"]))

    assert roles["Content-Type"] == "text/csv; charset=utf-8"
    assert roles["Content-Disposition"] == 'attachment; filename="acme-roles.csv"'
    assert roles["X-Content-Type-Options"] == "nosniff"
    role_rows = list(csv.reader(io.StringIO(roles.content.decode("utf-8-sig"))))
    assert role_rows[0] == ["name", "id"]
    assert ["Hiring Manager", HIRING_MANAGER_ID] in role_rows
    group_rows = list(csv.reader(io.StringIO(groups.content.decode("utf-8-sig"))))
    assert ["Engineering", "60497fe33e2b74a609b7e412"] in group_rows


def test_the_lists_say_when_smartrecruiters_cannot_be_reached(browser_a):
    response = browser_a.get(reverse("imports:lists"))

    assert response.status_code == 503
    content = response.content.decode()
    assert "SmartRecruiters could not be reached at http://127.0.0.1:" in content
    assert "so User2Smart could not read the company&#x27;s system roles" in content
    assert "Please try again in a few minutes." in content


def test_an_unknown_list_is_not_found(browser_a):
    assert browser_a.get("/lists/passwords.csv").status_code == 404


def test_help_summarises_the_format_and_links_to_the_rest(browser_a):
    content = browser_a.get(reverse("imports:help")).content.decode()

    for column in COLUMNS:
        assert f"<code>{column}</code>" in content
    assert "Create or update" in content
    assert "nothing if already active (enabling cannot be undone)" in content
    assert reverse("imports:template") in content
    assert reverse("imports:csv_format") in content
    assert 'href="https://www.iso.org/obp/ui/#search/code/"' in content
    assert 'href="https://help.smartrecruiters.com/"' in content


def test_the_template_file_reads_as_one_valid_user(browser_a):
    response = browser_a.get(reverse("imports:template"))

    assert response["Content-Disposition"] == 'attachment; filename="user2smart-template.csv"'
    csv_file = read_csv(response.content)
    checker = RowChecker(roles=[{"id": "EMPLOYEE", "name": "Employee"}], groups=[])
    rows = list(check_records(csv_file, checker))
    assert csv_file.dialect.header is True
    assert csv_file.dialect.columns == COLUMNS
    assert len(rows) == 1
    assert isinstance(rows[0], UserRow), rows[0]
    assert rows[0].email == "jane.doe@example.com"


def test_the_format_page_is_a_page_for_hr_admins_not_raw_markdown(browser_a):
    content = browser_a.get(reverse("imports:csv_format")).content.decode()

    assert "<h1>The CSV format</h1>" in content
    for column in COLUMNS:
        assert f"<code>{column}</code>" in content
    for markdown in ("| --- |", "|---|", "\n## ", "\n# ", "`email`", "**"):
        assert markdown not in content, markdown
    # Developers' and operators' matters stay in docs/csv-format.md.
    assert "manage.py" not in content
    assert "import_users" not in content
    assert "List system roles" not in content
    assert f'<a href="{reverse("imports:lists")}">' in content
    assert ", ".join(f"<code>{name}</code>" for name in LOG_COLUMNS) in content


def test_the_format_page_says_what_all_or_nothing_and_schedules_change(browser_a):
    content = browser_a.get(reverse("imports:csv_format")).content.decode()

    assert "then a file with any row in error changes nothing" in content
    assert "unless the import is <em>all or nothing</em>" in content
    assert f'<a href="{reverse("scheduler:list")}">schedule</a>' in content
    assert "operators fetch" not in content  # company admins set up schedules themselves


def test_every_link_of_the_format_page_leads_to_a_page_of_the_site(browser_a):
    content = browser_a.get(reverse("imports:csv_format")).content.decode()

    hrefs = set(re.findall(r'href="([^"#]+)', content))
    internal = {href for href in hrefs if href.startswith("/") and "/static/" not in href}
    assert reverse("imports:template") in internal
    for href in internal:
        try:
            resolve(href)
        except Resolver404:
            pytest.fail(f"the link {href} leads nowhere")
