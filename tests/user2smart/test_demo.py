"""The demo: its company holds the people the sample files assume, its sample file is what the
README says, and the README names the variables the demo reads."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from imports.csvfile import COLUMNS, RawRecord, read_csv
from imports.planner import Directory, plan_rows
from imports.rows import RowChecker, check_records
from tests.imports import SAMPLES
from user2smart.demo_seed import demo_company, sample_rows

ROOT = Path(__file__).resolve().parents[2]


def demo_directory() -> Directory:
    company = demo_company("unused")
    return Directory.from_api(
        users=company["users"],
        system_roles=company["roles"],
        access_groups=company["access_groups"],
    )


def planned_actions(name: str) -> list[str]:
    directory = demo_directory()
    csv_file = read_csv((SAMPLES / name).read_bytes())
    checker = RowChecker(
        roles=directory.roles, groups=directory.groups, ignored=csv_file.dialect.ignored
    )
    return [
        p.action.value for p in plan_rows(check_records(csv_file, checker), "upsert", directory)
    ]


def test_the_demo_company_holds_every_person_of_the_sample_directory():
    sample = json.loads((SAMPLES / "directory.json").read_text(encoding="utf-8"))
    demo = {user["email"]: user for user in demo_company("unused")["users"]}

    for person in sample["users"]:
        found = demo[person["email"]]
        for field in ("firstName", "lastName", "externalData", "active", "ssoIdentifier"):
            assert found.get(field) == person[field], (person["email"], field)
        assert found["systemRole"]["id"] == person["systemRole"]["id"]
        assert found["language"] == person["language"]
        assert (found.get("location") or None) == person["location"]
        assert [g["id"] for g in found["accessGroups"]] == [g["id"] for g in person["accessGroups"]]


@pytest.mark.parametrize(
    ("name", "actions"),
    [
        (
            "users-basic.csv",
            ["update", "create", "create", "create", "create", "unchanged", "update"],
        ),
        ("excel-utf8-bom-semicolon.csv", ["create", "create", "unchanged"]),
        ("email-change.csv", ["update"]),
        ("ignore-role-and-groups-on-update.csv", ["update", "create"]),
    ],
)
def test_a_sample_uploaded_to_the_demo_shows_updates_and_unchanged_rows(name, actions):
    assert planned_actions(name) == actions


def test_the_demo_sample_file_is_what_the_readme_says():
    directory = demo_directory()
    checker = RowChecker(roles=directory.roles, groups=directory.groups)
    rows = sample_rows()
    records = [
        RawRecord(line, [row.get(name, "") for name in COLUMNS])
        for line, row in enumerate(rows, start=2)
    ]
    planned = list(plan_rows(check_records(records, checker), "upsert", directory))

    kinds = Counter(
        "deactivate" if p.changes.get("active") == [True, False] else p.action.value
        for p in planned
    )
    assert len(rows) == 11
    assert kinds == {"update": 3, "deactivate": 1, "unchanged": 1, "create": 5, "error": 1}
    readme = re.sub(r"\s+", " ", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert (
        "(11 rows: three updates, a deactivation, one unchanged person, five new people and one "
        "row with an error)"
    ) in readme


def test_the_readme_names_every_variable_the_demo_reads():
    code = (ROOT / "user2smart" / "demo.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    names = set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', code))

    assert {"DEMO_PORT", "DEMO_EMULATOR_PORT"} <= names
    for name in names:
        assert f"`{name}`" in readme, name
