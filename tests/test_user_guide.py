"""docs/user-guide.md quotes what the product says, word for word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imports.csvfile import COLUMNS, RawRecord
from imports.logs import changes_words, log_message
from imports.planner import Directory, plan_rows
from imports.rows import RejectedRow, RowChecker, check_records
from imports.services.planning import held_message
from imports.views.present import left_alone_words

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user-guide.md"


def guide_text() -> str:
    """The guide with its line breaks and emphasis taken out, as one line of words."""
    text = GUIDE.read_text(encoding="utf-8").replace("*", "")
    return re.sub(r"\s+", " ", text)


def record(**values: str) -> RawRecord:
    base = {
        "email": "gloria.alyn@acme.example",
        "firstName": "Gloria",
        "lastName": "Alyn",
        "systemRoleId": "EMPLOYEE",
        "languageCode": "en",
        "active": "true",
        "enabled": "true",
    }
    cells = {**dict.fromkeys(COLUMNS, ""), **base, **values}
    return RawRecord(5, [cells[name] for name in COLUMNS])


def test_the_log_message_quoted_is_the_one_an_unknown_role_gets():
    checker = RowChecker(roles=[{"id": "EMPLOYEE", "name": "Employee"}], groups=[])
    row = checker.check(record(systemRoleId="Foo"))
    assert isinstance(row, RejectedRow)

    message = log_message("Gloria", "Alyn", " ".join(error.message for error in row.errors))

    assert message in guide_text()


def test_the_language_error_quoted_is_the_one_the_checker_gives():
    checker = RowChecker(roles=[{"id": "EMPLOYEE", "name": "Employee"}], groups=[])
    row = checker.check(record(languageCode="klingon"))
    assert isinstance(row, RejectedRow)

    (error,) = row.errors
    first_sentence = error.message.split(". ")[0]
    quoted = f"Line 5, column {error.column} (value {error.value}): {first_sentence}"
    assert quoted in guide_text()


def test_the_groups_warning_quoted_is_the_planner_s():
    directory = Directory.from_api(
        users=[],
        system_roles=[{"id": "EXTENDED", "name": "Extended"}],
        access_groups=[{"id": "g1", "name": "Engineering"}],
    )
    checker = RowChecker(roles=directory.roles, groups=directory.groups)
    records = [record(systemRoleId="EXTENDED", accessGroupId="Engineering")]
    (planned,) = plan_rows(check_records(records, checker), "upsert", directory)

    assert "Warning:" in planned.note
    warning = planned.note[planned.note.index("Warning:") :]
    assert warning in guide_text()


@pytest.mark.parametrize(
    "words",
    [
        held_message(missing=53, limit=10),
        left_alone_words({"administrators": 2, "protected addresses": 1}),
        changes_words({"lastName": ["Martin", "Martin-Durand"]}),
    ],
)
def test_messages_quoted_with_their_figures_are_the_product_s(words):
    assert words in guide_text()


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("imports/templates/imports/person.html", "This version taken from SmartRecruiters on"),
    ],
)
def test_page_texts_quoted_are_on_the_pages(template, words):
    assert words in (ROOT / template).read_text(encoding="utf-8")
    assert words in guide_text()
