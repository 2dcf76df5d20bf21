"""Planning: one action per row, the exact steps, and plans that survive JSON."""

from __future__ import annotations

import json

import pytest

from imports.csvfile import COLUMNS, RawRecord, read_csv
from imports.planner import (
    Action,
    Directory,
    DirectoryUser,
    PlannedRow,
    Step,
    StepKind,
    needs_location,
    plan_rows,
)
from imports.rows import RowChecker, check_records
from tests.imports import SAMPLES, sample_directory

ALICE = "alice.martin@acme.example"
BOB = "bob.keller@acme.example"
CARLA = "carla.ruiz@acme.example"
NEW = "new.person@acme.example"
ENGINEERING = "60497fe33e2b74a609b7e412"
SALES = "60497fe33e2b74a609b7e411"
PRODUCT = "60497fe33e2b74a609b7e410"


def cells(**values: str) -> dict[str, str]:
    base = {
        "email": NEW,
        "firstName": "Nia",
        "lastName": "New",
        "systemRoleId": "EMPLOYEE",
        "languageCode": "en",
        "active": "true",
        "enabled": "true",
    }
    return {**dict.fromkeys(COLUMNS, ""), **base, **values}


def bob(**values: str) -> dict[str, str]:
    """Bob exactly as the sample company holds him, changed by ``values``."""
    return cells(
        **{
            "email": BOB,
            "firstName": "Bob",
            "lastName": "Keller",
            "externalData": "E1002",
            "languageCode": "de",
            "ssoIdentifier": "bkeller",
            **values,
        }
    )


def alice(**values: str) -> dict[str, str]:
    """Alice as the sample company holds her (location and one group), changed by ``values``."""
    return cells(
        **{
            "email": ALICE,
            "firstName": "Alice",
            "lastName": "Martin",
            "systemRoleId": "STANDARD",
            "externalData": "E1001",
            "languageCode": "fr",
            "countryCode": "FR",
            "city": "Paris",
            "address": "1 rue de Rivoli",
            "postalCode": "75001",
            "accessGroupId": SALES,
            **values,
        }
    )


def plan(
    *rows: dict[str, str],
    mode: str = "upsert",
    ignored: tuple[str, ...] = (),
    directory: Directory | None = None,
    read_location=None,
) -> list[PlannedRow]:
    directory = directory or sample_directory()
    checker = RowChecker(roles=directory.roles, groups=directory.groups, ignored=ignored)
    records = [
        RawRecord(line, [row[name] for name in COLUMNS]) for line, row in enumerate(rows, start=2)
    ]
    return list(
        plan_rows(check_records(records, checker), mode, directory, read_location=read_location)
    )


def kinds(planned: PlannedRow) -> list[str]:
    return [step.kind.value for step in planned.steps]


def operations(planned: PlannedRow) -> list[dict]:
    return next(step.data for step in planned.steps if step.kind is StepKind.PATCH)


def plan_sample(name: str, mode: str = "upsert") -> list[PlannedRow]:
    directory = sample_directory()
    csv_file = read_csv((SAMPLES / name).read_bytes())
    checker = RowChecker(
        roles=directory.roles, groups=directory.groups, ignored=csv_file.dialect.ignored
    )
    return list(plan_rows(check_records(csv_file, checker), mode, directory))


# The samples, as samples/README.md says ----------------------------------------------------


def test_users_basic_sample_is_planned_as_documented():
    planned = plan_sample("users-basic.csv")

    assert [(p.line, p.action.value) for p in planned] == [
        (2, "update"),
        (3, "create"),
        (4, "create"),
        (5, "create"),
        (6, "create"),
        (7, "unchanged"),
        (8, "update"),
    ]
    assert planned[0].changes == {"lastName": ["Martin", "Martin-Durand"]}
    assert operations(planned[0]) == [
        {"op": "replace", "path": "/lastName", "value": "Martin-Durand"}
    ]
    assert planned[5].steps == []
    assert planned[6].changes == {"active": [False, True]}
    assert kinds(planned[6]) == ["activate"]
    tomasz = planned[2].steps[0].data
    assert tomasz["systemRole"] == {"id": "64b7f0c2a1d3e4f5a6b7c8d9"}
    assert planned[2].steps[1] == Step(StepKind.ADD_TO_GROUPS, [ENGINEERING, PRODUCT])
    assert planned[5].user_id == "65a000000000000000000002"


def test_users_basic_sample_create_bodies_carry_location_and_language():
    planned = plan_sample("users-basic.csv")

    assert planned[4].steps[0].data == {
        "email": "new.hire4@acme.example",
        "firstName": "Ana",
        "lastName": "Souza",
        "systemRole": {"id": "RESTRICTED"},
        "language": {"code": "pt-BR"},
        "location": {
            "countryCode": "US",
            "regionCode": "CA",
            "city": "San Francisco",
            "address": "500 Howard St",
            "postalCode": "94105",
        },
    }
    assert planned[3].steps[0].data["ssoIdentifier"] == "ytanaka"


def test_excel_sample_creates_then_leaves_carla_alone():
    planned = plan_sample("excel-utf8-bom-semicolon.csv")

    assert [(p.line, p.action.value) for p in planned] == [
        (2, "create"),
        (3, "create"),
        (4, "unchanged"),
    ]
    assert planned[0].steps[0].data["location"]["countryCode"] == "FR"
    assert kinds(planned[1]) == ["create", "activation_email"]
    assert planned[2].steps == []


def test_no_header_and_windows_samples_create_every_line():
    headerless = plan_sample("no-header.csv")
    windows = plan_sample("windows-1252-semicolon.csv")

    assert [(p.line, p.action.value) for p in headerless] == [(1, "create"), (2, "create")]
    assert [p.steps[0].data["firstName"] for p in windows] == ["François", "José"]
    assert [p.steps[0].data["lastName"] for p in windows] == ["Müller", "Peña"]


def test_email_change_sample_patches_only_the_email():
    (planned,) = plan_sample("email-change.csv")

    assert planned.action is Action.UPDATE
    assert planned.user_id == "65a000000000000000000001"
    assert planned.changes == {"email": [ALICE, "alice.m@acme.example"]}
    assert operations(planned) == [
        {"op": "replace", "path": "/email", "value": "alice.m@acme.example"}
    ]


def test_ignore_sample_changes_bob_s_first_name_only_and_creates_with_role_and_group():
    bob_row, mei = plan_sample("ignore-role-and-groups-on-update.csv")

    assert bob_row.changes == {"firstName": ["Bob", "Robert"]}
    assert kinds(bob_row) == ["patch"]
    assert mei.steps[0].data["systemRole"] == {"id": "STANDARD"}
    assert mei.steps[0].data["language"] == {"code": "zh-CN"}
    assert mei.steps[1] == Step(StepKind.ADD_TO_GROUPS, [ENGINEERING])


def test_errors_sample_reports_each_line_and_creates_the_fine_one():
    planned = plan_sample("errors.csv")

    actions = {p.line: p.action.value for p in planned}
    assert actions == {line: "error" for line in range(2, 14)} | {11: "create"}
    assert [e.column for e in planned[10].errors] == ["email"]
    assert "already appears on line 11" in planned[10].message


# Modes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "email", "action", "words"),
    [
        ("create", NEW, "create", ""),
        ("create", BOB, "error", f'A SmartRecruiters user with the email "{BOB}" already exists'),
        ("update", NEW, "error", f'No SmartRecruiters user has the email "{NEW}"'),
        ("update", BOB, "update", ""),
        ("upsert", NEW, "create", ""),
        ("upsert", BOB, "update", ""),
    ],
)
def test_each_mode_with_a_user_found_or_not(mode, email, action, words):
    row = bob(email=email, lastName="Kellerman") if email == BOB else cells(email=email)

    (planned,) = plan(row, mode=mode)

    assert planned.action.value == action
    assert words in planned.message
    if action == "error":
        assert planned.steps == []
        assert planned.errors[0].column == "email"


def test_users_are_found_whatever_the_case_of_their_email():
    (planned,) = plan(bob(email="Bob.Keller@ACME.example"))

    assert planned.action is Action.UNCHANGED
    assert planned.user_id == "65a000000000000000000002"


# Email changes ------------------------------------------------------------------------------


def test_new_email_of_another_existing_user_is_an_error():
    (planned,) = plan(bob(email=CARLA, oldEmail=BOB))

    assert planned.action is Action.ERROR
    assert planned.errors[0].column == "email"
    assert "already belongs to another SmartRecruiters user" in planned.message


def test_a_file_kept_after_the_email_change_finds_the_user_by_the_new_email():
    directory = sample_directory()
    directory.users["bob.k@acme.example"] = directory.users.pop(BOB)

    (planned,) = plan(bob(email="bob.k@acme.example", oldEmail=BOB), directory=directory)

    assert planned.user_id == "65a000000000000000000002"


def test_update_mode_with_an_unknown_old_email_names_the_old_email():
    (planned,) = plan(cells(oldEmail="gone@acme.example"), mode="update")

    assert planned.action is Action.ERROR
    assert planned.errors[0].column == "oldEmail"
    assert '"gone@acme.example"' in planned.message


def test_changing_only_the_case_of_an_email_is_no_change():
    (planned,) = plan(bob(email="BOB.KELLER@acme.example", oldEmail=BOB))

    assert planned.action is Action.UNCHANGED


# Duplicates ---------------------------------------------------------------------------------


def test_the_same_user_twice_is_an_error_on_every_later_line_naming_the_first():
    planned = plan(bob(), bob(lastName="K"), bob(email=BOB.upper()), cells())

    assert [p.action.value for p in planned] == ["unchanged", "error", "error", "create"]
    assert all("already appears on line 2" in p.message for p in planned[1:3])
    assert [p.errors[0].line for p in planned[1:3]] == [3, 4]


def test_a_later_row_using_an_earlier_row_s_old_email_is_a_duplicate():
    planned = plan(bob(email="bob.k@acme.example", oldEmail=BOB), bob())

    assert planned[0].action is Action.UPDATE
    assert planned[1].action is Action.ERROR
    assert "already appears on line 2" in planned[1].message


def test_an_email_change_into_another_row_s_address_is_a_duplicate():
    planned = plan(cells(email="taken@acme.example"), bob(email="taken@acme.example", oldEmail=BOB))

    assert planned[0].action is Action.CREATE
    assert planned[1].action is Action.ERROR
    assert planned[1].errors[0].column == "email"


def test_a_row_with_errors_still_claims_its_email():
    planned = plan(cells(languageCode="xx"), cells())

    assert [p.action for p in planned] == [Action.ERROR, Action.ERROR]
    assert "already appears on line 2" in planned[1].message


# active / enabled / sendEmail ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("active", "enabled", "send_email", "steps"),
    [
        ("false", "false", "false", ["create"]),
        ("false", "true", "true", ["create"]),
        ("true", "true", "false", ["create", "activate"]),
        ("true", "true", "true", ["create", "activate", "activation_email"]),
        ("true", "false", "false", ["create", "activation_email"]),
        ("true", "false", "true", ["create", "activation_email"]),
    ],
)
def test_truth_table_on_create(active, enabled, send_email, steps):
    (planned,) = plan(cells(active=active, enabled=enabled, sendEmail=send_email))

    assert kinds(planned) == steps


@pytest.mark.parametrize(
    ("user", "active", "enabled", "steps", "changes"),
    [
        (BOB, "false", "true", ["deactivate"], {"active": [True, False]}),
        (BOB, "false", "false", ["deactivate"], {"active": [True, False]}),
        (BOB, "true", "true", [], {}),
        (BOB, "true", "false", [], {}),
        (CARLA, "false", "false", [], {}),
        (CARLA, "true", "true", ["activate"], {"active": [False, True]}),
        (CARLA, "true", "false", ["activation_email"], {}),
    ],
)
def test_truth_table_on_update(user, active, enabled, steps, changes):
    if user == BOB:
        row = bob(active=active, enabled=enabled, sendEmail="true")
    else:
        row = cells(
            email=CARLA,
            firstName="Carla",
            lastName="Ruiz",
            systemRoleId="EXTENDED",
            languageCode="es-MX",
            active=active,
            enabled=enabled,
        )

    (planned,) = plan(row)

    assert kinds(planned) == steps
    assert planned.changes == changes
    assert planned.action is (Action.UPDATE if steps else Action.UNCHANGED)


# Updates ------------------------------------------------------------------------------------


def test_only_the_fields_that_differ_are_patched_in_one_call():
    (planned,) = plan(
        bob(firstName="Robert", systemRoleId="Standard", languageCode="EN", externalData="E9")
    )

    assert kinds(planned) == ["patch"]
    assert operations(planned) == [
        {"op": "replace", "path": "/firstName", "value": "Robert"},
        {"op": "replace", "path": "/systemRole", "value": {"id": "STANDARD"}},
        {"op": "replace", "path": "/externalData", "value": "E9"},
        {"op": "replace", "path": "/language", "value": {"code": "en"}},
    ]
    assert planned.changes == {
        "firstName": ["Bob", "Robert"],
        "systemRole": ["EMPLOYEE", "STANDARD"],
        "externalData": ["E1002", "E9"],
        "language": ["de", "en"],
    }


def test_a_value_the_user_does_not_have_yet_is_added():
    (planned,) = plan(
        cells(
            email=CARLA,
            firstName="Carla",
            lastName="Ruiz",
            systemRoleId="EXTENDED",
            languageCode="es-MX",
            active="false",
            externalData="E7",
            ssoIdentifier="cruiz",
        )
    )

    assert operations(planned) == [
        {"op": "add", "path": "/externalData", "value": "E7"},
        {"op": "add", "path": "/ssoIdentifier", "value": "cruiz"},
    ]


def test_empty_optional_cells_leave_current_values_alone():
    (planned,) = plan(bob(externalData="", ssoIdentifier=""))

    assert planned.action is Action.UNCHANGED


def test_bang_columns_are_left_alone_on_update_but_used_on_create():
    planned = plan(
        bob(systemRoleId="ADMINISTRATOR", accessGroupId="Engineering"),
        cells(systemRoleId="STANDARD", accessGroupId="Engineering"),
        ignored=("systemRoleId", "accessGroupId"),
    )

    assert planned[0].action is Action.UNCHANGED
    assert planned[1].steps[0].data["systemRole"] == {"id": "STANDARD"}
    assert planned[1].steps[1] == Step(StepKind.ADD_TO_GROUPS, [ENGINEERING])


def test_a_bang_role_left_empty_is_fine_for_updates_and_an_error_for_creates():
    planned = plan(
        bob(systemRoleId=""), cells(systemRoleId=""), ignored=("systemRoleId",), mode="upsert"
    )

    assert planned[0].action is Action.UNCHANGED
    assert planned[1].action is Action.ERROR
    assert planned[1].errors[0].column == "systemRoleId"
    assert "required to create a user" in planned[1].message


def test_groups_are_set_to_exactly_the_listed_ones():
    (planned,) = plan(alice(accessGroupId="Engineering|Product management"))

    assert planned.steps == [
        Step(StepKind.ADD_TO_GROUPS, [ENGINEERING, PRODUCT]),
        Step(StepKind.REMOVE_FROM_GROUP, SALES),
    ]
    assert planned.changes == {"accessGroups": [[SALES], [ENGINEERING, PRODUCT]]}


GROUPS_WARNING = "see everything in SmartRecruiters whatever their access groups"


@pytest.mark.parametrize("role", ["EXTENDED", "ADMINISTRATOR"])
def test_groups_given_to_a_role_that_sees_everything_are_warned_about(role):
    created, updated = plan(
        cells(systemRoleId=role, accessGroupId="Engineering"),
        alice(systemRoleId=role, accessGroupId="Sales EMEA|Engineering"),
    )

    for planned in (created, updated):
        assert planned.note.endswith(
            f"Warning: users with the role {role} see everything in SmartRecruiters whatever "
            "their access groups, so the groups given here restrict nothing."
        )
        assert planned.message.endswith(planned.note)
    assert created.action is Action.CREATE
    assert updated.action is Action.UPDATE


def test_groups_follow_the_role_the_user_keeps_with_a_bang_role_column():
    directory = sample_directory()
    user = directory.users[ALICE]
    directory.users[ALICE] = DirectoryUser(**{**_fields(user), "system_role_id": "EXTENDED"})

    kept, standard = plan(
        alice(systemRoleId="STANDARD", accessGroupId="Sales EMEA|Engineering"),
        cells(systemRoleId="STANDARD", accessGroupId="Engineering"),
        ignored=("systemRoleId",),
        directory=directory,
    )

    assert GROUPS_WARNING in kept.note
    assert GROUPS_WARNING not in standard.note


def test_no_warning_without_groups_given_or_for_a_standard_user():
    no_groups, standard, unchanged = plan(
        cells(systemRoleId="EXTENDED"),
        alice(accessGroupId="Sales EMEA|Engineering"),
        bob(email="carla.ruiz@acme.example", firstName="Carla", lastName="Ruiz"),
    )

    assert GROUPS_WARNING not in no_groups.message
    assert GROUPS_WARNING not in standard.message
    assert GROUPS_WARNING not in unchanged.message


def test_listing_the_current_groups_in_another_order_changes_nothing():
    directory = sample_directory()
    user = directory.users[ALICE]
    directory.users[ALICE] = DirectoryUser(
        **{**_fields(user), "access_group_ids": (SALES, PRODUCT)}
    )

    (planned,) = plan(alice(accessGroupId=f"{PRODUCT}|{SALES}"), directory=directory)

    assert planned.action is Action.UNCHANGED


def test_an_empty_group_cell_leaves_groups_alone():
    (planned,) = plan(alice(accessGroupId=""))

    assert planned.action is Action.UNCHANGED


def test_same_country_and_city_keep_what_empty_location_cells_do_not_say():
    (unchanged,) = plan(alice(address="", postalCode=""))
    (new_postcode,) = plan(alice(postalCode="75002"))

    assert unchanged.action is Action.UNCHANGED
    assert operations(new_postcode) == [
        {
            "op": "replace",
            "path": "/location",
            "value": {
                "countryCode": "FR",
                "city": "Paris",
                "address": "1 rue de Rivoli",
                "postalCode": "75002",
            },
        }
    ]


def test_a_move_replaces_the_whole_location():
    (planned,) = plan(alice(countryCode="gb", city="London", address="", postalCode=""))

    assert planned.changes["location"] == [
        {"countryCode": "FR", "city": "Paris", "address": "1 rue de Rivoli", "postalCode": "75001"},
        {"countryCode": "GB", "city": "London"},
    ]


def test_a_location_for_a_user_without_one_is_added():
    (planned,) = plan(bob(countryCode="DE", city="Berlin"))

    assert operations(planned) == [
        {"op": "add", "path": "/location", "value": {"countryCode": "DE", "city": "Berlin"}}
    ]


def test_the_location_is_read_only_for_users_the_file_gives_a_location():
    directory = sample_directory()
    for email, user in list(directory.users.items()):
        directory.users[email] = DirectoryUser(**{**_fields(user), "location": None})
    read: list[str] = []

    def read_location(user: DirectoryUser) -> dict:
        read.append(user.email)
        return {
            "countryCode": "FR",
            "city": "Paris",
            "address": "1 rue de Rivoli",
            "postalCode": "75001",
        }

    planned = plan(
        alice(),
        bob(),
        cells(countryCode="FR", city="Lyon"),
        directory=directory,
        read_location=read_location,
    )

    assert read == [ALICE]
    assert [p.action for p in planned] == [Action.UNCHANGED, Action.UNCHANGED, Action.CREATE]


def test_needs_location_is_true_only_for_rows_with_location_columns():
    directory = sample_directory()
    checker = RowChecker(roles=directory.roles, groups=directory.groups)
    with_location = checker.check(RawRecord(2, list(alice().values())))
    without = checker.check(RawRecord(3, list(bob().values())))
    rejected = checker.check(RawRecord(4, list(cells(email="").values())))

    assert needs_location(with_location)
    assert not needs_location(without)
    assert not needs_location(rejected)


# Plans as JSON ------------------------------------------------------------------------------


def test_every_kind_of_plan_round_trips_through_json():
    planned = plan(
        cells(password="Initial-Pw-1", accessGroupId="Engineering", countryCode="FR", city="Lyon"),
        alice(lastName="Martin-Durand", accessGroupId="Engineering", active="false"),
        bob(),
        cells(email="broken", languageCode="xx"),
    )

    for row in planned:
        assert PlannedRow.from_json(json.loads(json.dumps(row.to_json()))) == row
    assert [p.action for p in planned] == [
        Action.CREATE,
        Action.UPDATE,
        Action.UNCHANGED,
        Action.ERROR,
    ]
    assert planned[0].to_json()["source"][COLUMNS.index("accessGroupId")] == "Engineering"


def test_a_plan_stored_with_its_source_by_column_name_reads_back_in_column_order():
    (planned,) = plan(cells(accessGroupId="Engineering"))
    stored = planned.to_json()
    stored["source"] = dict(zip(COLUMNS, stored["source"], strict=True))

    assert PlannedRow.from_json(stored).source == planned.source


def test_the_password_appears_only_in_the_create_body_and_is_redacted_for_display():
    (planned,) = plan(cells(password="Initial-Pw-1"))

    assert planned.steps[0].data["password"] == "Initial-Pw-1"
    assert "Initial-Pw-1" not in repr(planned)
    assert "password" not in planned.redacted().steps[0].data
    assert "Initial-Pw-1" not in json.dumps(planned.redacted().to_json())
    assert planned.to_json()["source"][COLUMNS.index("password")] == ""


def test_messages_say_what_the_plan_does():
    planned = plan(cells(), alice(lastName="M"), bob(), cells(email="x@acme.example", active="x"))

    assert planned[0].message == "Create the user, then activate. Role: Employee. No access group."
    assert planned[1].message == "Update lastName."
    assert planned[2].message == "Already up to date: nothing to send."
    assert planned[3].message == '"x" is not a yes/no value for active; write true or false.'


def test_a_created_user_s_message_names_the_role_and_access_groups_it_will_get():
    (planned,) = plan(
        cells(systemRoleId="STANDARD", accessGroupId="Engineering|Product management")
    )

    assert planned.message == (
        "Create the user, then add to access groups, then activate. "
        "Role: Standard. Access groups: Engineering, Product management."
    )


def _fields(user: DirectoryUser) -> dict:
    return {name: getattr(user, name) for name in DirectoryUser.__dataclass_fields__}
