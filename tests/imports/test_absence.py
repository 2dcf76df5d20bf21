"""Full sync in the planner: who is missing from the file, and who is never deactivated for it."""

from __future__ import annotations

import pytest

from imports.csvfile import COLUMNS, RawRecord
from imports.planner import Absence, Action, Directory, StepKind, plan_rows
from imports.rows import RowChecker, check_records

ROLES = [{"id": role, "name": role.title()} for role in ("EMPLOYEE", "ADMINISTRATOR")]


def user(i: int, *, active: bool = True, role: str = "EMPLOYEE", email: str = "") -> dict:
    return {
        "id": f"id{i:03d}",
        "email": email or f"p{i:03d}@acme.example",
        "firstName": "Person",
        "lastName": f"N{i}",
        "systemRole": {"id": role},
        "language": {"code": "en"},
        "active": active,
    }


def directory(users: list[dict]) -> Directory:
    return Directory.from_api(users=users, system_roles=ROLES)


def record(i: int, **cells: str) -> list[str]:
    """A row of the 19-column format (no header) for person i, as the directory has them."""
    values = {
        "email": f"p{i:03d}@acme.example",
        "firstName": "Person",
        "lastName": f"N{i}",
        "systemRoleId": "EMPLOYEE",
        "languageCode": "en",
        "active": "true",
        "enabled": "true",
        **cells,
    }
    return [values.get(name, "") for name in COLUMNS]


def plan(users: list[dict], records: list[list[str]], absence: Absence | None, mode="upsert"):
    checker = RowChecker(roles=ROLES, groups=[])
    numbered = [RawRecord(line, cells) for line, cells in enumerate(records, start=2)]
    return list(
        plan_rows(check_records(numbered, checker), mode, directory(users), absence=absence)
    )


def deactivated(planned) -> list[str]:
    return [row.email for row in planned if row.action is Action.DEACTIVATE]


def test_exactly_the_active_people_missing_from_the_file_are_deactivated():
    users = [user(i) for i in range(60)] + [user(60, active=False)]
    records = [record(i) for i in range(60) if i not in (7, 21, 42)]

    planned = plan(users, records, Absence())

    assert deactivated(planned) == ["p007@acme.example", "p021@acme.example", "p042@acme.example"]
    row = planned[-1]
    assert (row.line, row.user_id, row.changes) == (None, "id042", {"active": [True, False]})
    assert [step.kind for step in row.steps] == [StepKind.DEACTIVATE]
    assert row.message == "Not in the file: deactivate."
    assert all(row.line is not None for row in planned[:-3])


def test_the_credential_user_administrators_and_protected_addresses_are_left_alone():
    users = [user(i) for i in range(10)]
    users += [user(10, role="ADMINISTRATOR"), user(11), user(12, email="Boss@Acme.example")]
    absence = Absence(credential_user_id="id011", protected=frozenset({"boss@acme.example"}))

    planned = plan(users, [record(i) for i in range(9)], absence)

    assert deactivated(planned) == ["p009@acme.example"]
    assert absence.left_alone == {
        "the company's SmartRecruiters credential user": 1,
        "administrators": 1,
        "protected addresses": 1,
    }


def test_administrators_go_when_the_company_opts_in():
    users = [user(0), user(1, role="ADMINISTRATOR")]

    planned = plan(users, [record(0)], Absence(admins=True))

    assert deactivated(planned) == ["p001@acme.example"]


def test_with_the_managed_scope_a_user_made_by_hand_stays():
    users = [user(0), user(1), user(2)]
    absence = Absence(managed=frozenset({"id001"}))

    planned = plan(users, [record(0)], absence)

    assert deactivated(planned) == ["p001@acme.example"]
    assert absence.left_alone == {"not managed by User2Smart": 1}


def test_a_row_that_names_the_user_by_old_email_keeps_them():
    users = [user(0), user(1)]
    renamed = record(1, email="new.address@acme.example", oldEmail="p001@acme.example")

    planned = plan(users, [record(0), renamed], Absence())

    assert deactivated(planned) == []


def test_a_row_with_errors_still_keeps_its_person():
    users = [user(0), user(1)]

    planned = plan(users, [record(0), record(1, languageCode="klingon")], Absence())

    assert planned[1].action is Action.ERROR
    assert deactivated(planned) == []


@pytest.mark.parametrize("records", [[], [record(0, languageCode="klingon")]])
def test_a_file_with_no_valid_row_deactivates_no_one(records):
    users = [user(i) for i in range(5)]

    assert deactivated(plan(users, records, Absence())) == []


def test_without_full_sync_nobody_is_missing():
    users = [user(i) for i in range(5)]

    assert deactivated(plan(users, [record(0)], None)) == []
