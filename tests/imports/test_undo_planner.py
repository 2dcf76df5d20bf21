"""Undo in the planner: what a run recorded, against the directory as it is now."""

from __future__ import annotations

import re
from pathlib import Path

from imports.planner import Action, Directory, PlannedRow, Step, StepKind
from imports.planner.undo import Applied, plan_undo, reached_changes

GROUPS = [{"id": "g1", "name": "Sales"}, {"id": "g2", "name": "Engineering"}]


def user(**fields: object) -> dict:
    return {
        "id": "u1",
        "email": "ann.lee@acme.example",
        "firstName": "Ann",
        "lastName": "Lee",
        "systemRole": {"id": "EMPLOYEE"},
        "language": {"code": "en"},
        "active": True,
        **fields,
    }


def undo(changes: dict, *users: dict, created: bool = False, force: bool = False) -> PlannedRow:
    directory = Directory.from_api(users=users or [user()], access_groups=GROUPS)
    applied = Applied(3, "ann.lee@acme.example", "Ann", "Lee", "u1", created, changes)
    [planned] = plan_undo([applied], directory, run_label="import 7", force=force)
    return planned


def test_fields_still_as_the_run_wrote_them_go_back():
    planned = undo(
        {"lastName": ["Smith", "Lee"], "externalData": [None, "E1"], "language": ["fr", "en"]},
        user(externalData="E1"),
    )

    assert planned.action is Action.UPDATE
    assert planned.steps == [
        Step(
            StepKind.PATCH,
            [
                {"op": "replace", "path": "/lastName", "value": "Smith"},
                {"op": "remove", "path": "/externalData"},
                {"op": "replace", "path": "/language", "value": {"code": "fr"}},
            ],
        )
    ]
    assert planned.changes["lastName"] == ["Lee", "Smith"]
    assert planned.last_name == "Smith"


def test_a_field_changed_since_is_left_alone_and_said():
    planned = undo({"lastName": ["Smith", "Lee"], "firstName": ["An", "Ann"]}, user(lastName="Li"))

    assert planned.changes == {"firstName": ["Ann", "An"]}
    assert 'Changed since import 7: lastName is now "Li"; left as it is' in planned.message


def test_force_puts_a_changed_field_back_all_the_same():
    planned = undo({"lastName": ["Smith", "Lee"]}, user(lastName="Li"), force=True)

    assert planned.changes == {"lastName": ["Li", "Smith"]}
    assert "put back all the same" in planned.message


def test_nothing_is_sent_for_a_field_already_back():
    planned = undo({"lastName": ["Smith", "Lee"]}, user(lastName="Smith"))

    assert (planned.action, planned.steps) == (Action.UNCHANGED, [])
    assert "Already as before import 7: lastName." in planned.message


def test_an_email_taken_since_stays():
    other = user(id="u2", email="ann@acme.example")
    planned = undo({"email": ["ann@acme.example", "ann.lee@acme.example"]}, user(), other)

    assert planned.steps == []
    assert 'The old email "ann@acme.example" now belongs to another' in planned.message


def test_groups_and_activation_are_reversed_without_an_activation_email():
    planned = undo(
        {"accessGroups": [["g1"], ["g2"]], "active": [False, True]},
        user(accessGroups=[{"id": "g2"}], systemRole={"id": "STANDARD"}),
    )

    assert planned.steps == [
        Step(StepKind.ADD_TO_GROUPS, ["g1"]),
        Step(StepKind.REMOVE_FROM_GROUP, "g2"),
        Step(StepKind.DEACTIVATE),
    ]


def test_a_deactivation_is_reversed_by_an_activation_only():
    planned = undo({"active": [True, False]}, user(active=False))

    assert planned.steps == [Step(StepKind.ACTIVATE)]
    assert planned.changes == {"active": [False, True]}


def test_a_created_user_is_deactivated():
    planned = undo({}, created=True)

    assert planned.steps == [Step(StepKind.DEACTIVATE)]
    assert "SmartRecruiters cannot delete users" in planned.message
    assert undo({}, user(active=False), created=True).action is Action.UNCHANGED


def test_a_location_goes_back_whole():
    paris = {"countryCode": "FR", "city": "Paris", "postalCode": "75001"}
    lyon = {"countryCode": "FR", "city": "Lyon"}
    planned = undo({"location": [paris, lyon]}, user(location=lyon))

    assert planned.steps == [
        Step(StepKind.PATCH, [{"op": "replace", "path": "/location", "value": paris}])
    ]
    assert undo({"location": [None, lyon]}, user(location=lyon)).steps == [
        Step(StepKind.PATCH, [{"op": "remove", "path": "/location"}])
    ]


def test_the_user_guide_quotes_the_rows_words():
    guide = Path(__file__).resolve().parents[2] / "docs" / "user-guide.md"
    text = re.sub(r"\s+", " ", guide.read_text(encoding="utf-8").replace("*", ""))
    changed = undo({"lastName": ["Martin", "Martin-Durand"]}, user(lastName="Martin-Lefebvre"))
    created = undo({}, created=True)

    assert changed.note.replace("import 7", "import 12") in text
    assert created.note.replace("import 7", "import 12") in text


def test_a_row_that_stopped_part_way_is_undone_for_the_steps_it_reached():
    changes = {
        "lastName": ["Lee", "Li"],
        "accessGroups": [["g1"], ["g2"]],
        "active": [False, True],
    }  # steps: PATCH, add g2, remove g1, activate

    assert reached_changes(changes, 1) == {"lastName": ["Lee", "Li"]}
    assert set(reached_changes(changes, 3)) == {"lastName", "accessGroups"}
    assert reached_changes({"active": [True, False]}, 1) == {"active": [True, False]}
