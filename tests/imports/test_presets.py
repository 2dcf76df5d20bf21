"""Each preset plans its sample export (docs/samples/) against the sample company as expected."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from imports.planner import PlannedRow
from imports.profiles import profile_from_json
from imports.profiles.presets import PRESETS, preset
from tests.imports.test_profiles import plan

DOCS_SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def summary(planned: PlannedRow) -> tuple:
    """(line, action, email, changed fields, [(error column, message)])."""
    return (
        planned.line,
        planned.action.value,
        planned.email,
        sorted(planned.changes),
        [(error.column, error.message) for error in planned.errors],
    )


def planned_sample(name: str) -> list[tuple]:
    data = (DOCS_SAMPLES / f"{name}-export.csv").read_bytes()
    return [summary(row) for row in plan(data, preset(name))]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_valid_profile_with_a_sample(name):
    assert profile_from_json(preset(name)).name == name
    assert (DOCS_SAMPLES / f"{name}-export.csv").is_file()


def test_bamboohr_sample():
    assert planned_sample("bamboohr") == [
        (2, "update", "alice.martin@acme.example", ["language"], []),
        (3, "update", "bob.keller@acme.example", ["language", "location"], []),
        (4, "update", "carla.ruiz@acme.example", ["externalData", "language"], []),
        (5, "create", "nadia.haddad@acme.example", [], []),
        (6, "error", "", [], [("Work Email", "Work Email is empty (mapped to email).")]),
    ]


def test_workday_sample_finds_people_by_employee_id():
    repeated = (
        'Employee ID (mapped to externalData): The employee id "E2002" is on lines 5, 6 of the '
        "file; an employee may appear only once in a file."
    )
    assert planned_sample("workday") == [
        (2, "update", "alice.durand@acme.example", ["email", "language", "lastName"], []),
        (3, "update", "bob.keller@acme.example", ["language", "location"], []),
        (4, "create", "nadia.haddad@acme.example", [], []),
        (5, "error", "tomasz.nowak@acme.example", [], [("Employee ID", repeated)]),
        (6, "error", "t.nowak@acme.example", [], [("Employee ID", repeated)]),
    ]


def test_personio_sample():
    rows = planned_sample("personio")

    assert [row[:4] for row in rows[:3]] == [
        (2, "update", "alice.martin@acme.example", ["externalData", "language"]),
        (3, "update", "bob.keller@acme.example", ["externalData", "language"]),
        (4, "create", "nadia.haddad@acme.example", []),
    ]
    (column, message) = rows[3][4][0]
    assert (rows[3][1], column) == ("error", "Email")
    assert message.startswith('Email (mapped to email): "tomasz.nowak@acme" is not a valid email')


def test_hibob_sample():
    atlantis = (
        'Work country (mapped to countryCode): "Atlantis" is not an ISO 3166 two-letter country '
        "code (for example FR, DE or US)."
    )
    assert planned_sample("hibob") == [
        (2, "update", "alice.martin@acme.example", ["language"], []),
        (3, "update", "bob.keller@acme.example", ["language", "location"], []),
        (4, "update", "carla.ruiz@acme.example", ["externalData", "language", "location"], []),
        (5, "create", "nadia.haddad@acme.example", [], []),
        (6, "error", "tomasz.nowak@acme.example", [], [("Work country", atlantis)]),
    ]


def test_successfactors_sample():
    no_country = (
        "COUNTRY is empty (mapped to countryCode). A location needs a country: countryCode is "
        "empty while city is filled."
    )
    assert planned_sample("successfactors") == [
        (2, "update", "alice.martin@acme.example", ["language"], []),
        (3, "update", "robert.keller@acme.example", ["email", "language", "location"], []),
        (4, "create", "nadia.haddad@acme.example", [], []),
        (5, "error", "tomasz.nowak@acme.example", [], [("COUNTRY", no_country)]),
    ]


def test_the_worked_example_of_the_docs_plans_as_it_says():
    text = (DOCS_SAMPLES.parent / "profiles.md").read_text(encoding="utf-8")
    export = re.search(r"```csv\n(.*?)```", text, re.DOTALL)[1]
    spec = json.loads(re.search(r"```json\n(.*?)```", text, re.DOTALL)[1])

    alice, nadia, thomas = plan(export.encode(), spec)

    assert alice.changes == {"lastName": ["Martin", "Martin-Durand"], "language": ["fr", "en"]}
    body = nadia.steps[0].data
    assert (body["systemRole"], body["location"]) == (
        {"id": "EMPLOYEE"},
        {"countryCode": "DE", "city": "Berlin"},
    )
    assert [step.kind.value for step in nadia.steps] == ["create", "add_to_groups", "activate"]
    assert nadia.steps[1].data == ["60497fe33e2b74a609b7e412"]  # Engineering
    (error,) = thomas.errors
    assert (error.column, error.message) == ("Work Email", "Work Email is empty (mapped to email).")
