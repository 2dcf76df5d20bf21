"""Import profiles, pure: a profile's JSON checked, an HR export mapped to the 19 fields, every
error naming the file's own column, and users found by their employee id."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.csvfile import COLUMNS, CsvFileError, CsvOptions, RawRecord, read_csv
from imports.logs import write_failed_rows
from imports.planner import Action, PlannedRow, plan_rows
from imports.profiles import (
    STANDARD,
    Binding,
    ProfileError,
    country_code,
    profile_from_json,
    profile_read,
    repeated_ids,
)
from imports.rows import RowChecker, check_records
from tests.imports import SAMPLES, sample_directory

BAMBOOHR = {
    "name": "bamboohr",
    "match": "email",
    "fields": {
        "email": {"column": "Work Email"},
        "firstName": {"column": ["Preferred Name", "First Name"]},
        "lastName": {"column": "Last Name"},
        "externalData": {"column": "Employee #"},
        "systemRoleId": {
            "column": "Job Title", "map": {"Recruiter": "STANDARD"}, "default": "EMPLOYEE"
        },
        "languageCode": {"value": "en"},
        "active": {"column": "Status", "map": {"Active": "true", "Terminated": "false"}},
        "enabled": {"value": "true"},
        "countryCode": {"column": "Country", "transform": "country"},
        "city": {"column": "City"},
        "accessGroupId": {"column": "Department", "map": {"Sales": "Sales EMEA"}, "on": "create"},
    },
}  # fmt: skip
HEADER = [
    "Employee #", "First Name", "Preferred Name", "Last Name", "Work Email", "Job Title",
    "Status", "Country", "City", "Department", "Home Phone",
]  # fmt: skip


def export(*rows: dict[str, str], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in header})
    return out.getvalue().encode()


def employee(**cells: str) -> dict[str, str]:
    return {
        "Employee #": "E1001",
        "First Name": "Alice",
        "Last Name": "Martin",
        "Work Email": "alice.martin@acme.example",
        "Job Title": "Recruiter",
        "Status": "Active",
        "Country": "France",
        "City": "Paris",
        "Department": "Sales",
        **cells,
    }


def hr_export(**new_hire: str) -> bytes:
    """BambooHR's export of three people: Alice's last name changed, a new hire (Nadia, a
    recruiter in Berlin), and Tomasz, whose work email is empty."""
    nadia = {
        "Employee #": "E2001",
        "First Name": "Nadia",
        "Last Name": "Haddad",
        "Work Email": "nadia.haddad@acme.example",
        "Job Title": "Recruiter",
        "Country": "Allemagne",
        "City": "Berlin",
        "Department": "Engineering",
        **new_hire,
    }
    return export(
        employee(**{"Last Name": "Martin-Durand"}),
        employee(**nadia),
        employee(**{"Employee #": "E2002", "First Name": "Tomasz", "Work Email": ""}),
    )


def values(data: bytes, spec: dict = BAMBOOHR) -> list[dict[str, str]]:
    records = profile_read(data, profile_from_json(spec))
    return [dict(zip(COLUMNS, record.cells, strict=True)) for record in records]


def plan(data: bytes, spec: dict = BAMBOOHR, mode: str = "upsert") -> list[PlannedRow]:
    profile = profile_from_json(spec)
    directory = sample_directory()
    repeated = None
    if profile.match == "externalData":
        repeated = repeated_ids(profile_read(data, profile))
    records = profile_read(data, profile)
    checker = RowChecker(roles=directory.roles, groups=directory.groups, ignored=records.ignored)
    planned = plan_rows(
        check_records(records, checker),
        mode,
        directory,
        match=profile.match,
        repeated_ids=repeated,
    )
    return list(records.name_sources(planned))


# The profile's JSON ----------------------------------------------------------------------------


def test_the_documented_profile_is_accepted_and_written_back_the_same():
    profile = profile_from_json(BAMBOOHR)

    assert profile.name == "bamboohr"
    assert profile_from_json(profile.to_json()) == profile
    assert profile.to_json()["fields"]["firstName"] == {"column": ["Preferred Name", "First Name"]}


def test_unknown_keys_and_fields_are_refused_by_name():
    spec = {
        **BAMBOOHR,
        "colour": "blue",
        "fields": {**BAMBOOHR["fields"], "emial": {"column": "x"}, "city": {"colum": "City"}},
    }

    with pytest.raises(ProfileError) as caught:
        profile_from_json(spec)

    text = str(caught.value)
    assert 'Unknown keys in the profile: "colour"' in text
    assert 'Unknown fields: "emial"' in text
    assert 'city: unknown keys "colum"' in text


def test_required_fields_left_unmapped_are_named():
    fields = {k: v for k, v in BAMBOOHR["fields"].items() if k not in ("lastName", "enabled")}

    with pytest.raises(ProfileError, match="Required fields are not mapped: lastName, enabled"):
        profile_from_json({**BAMBOOHR, "fields": fields})


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"column": "A", "value": "b"}, 'either "column"'),
        ({"map": {"a": "b"}}, 'either "column"'),
        ({"column": []}, "a list of header names"),
        ({"column": "Country", "transform": "title"}, '"transform" is "title"'),
        ({"column": "Country", "on": "create"}, '"on": "create" is only allowed on'),
        ({"column": "Country", "map": {"fr": "FR", "FR": "FR"}}, "the same cell in another"),
    ],
)
def test_a_field_written_wrong_is_refused_with_its_name(rule, words):
    with pytest.raises(ProfileError, match="countryCode: ") as caught:
        profile_from_json({**BAMBOOHR, "fields": {**BAMBOOHR["fields"], "countryCode": rule}})

    assert words in str(caught.value)


def test_matching_by_employee_id_needs_the_employee_id_mapped():
    fields = {k: v for k, v in BAMBOOHR["fields"].items() if k != "externalData"}

    with pytest.raises(ProfileError, match="externalData must be mapped"):
        profile_from_json({**BAMBOOHR, "match": "externalData", "fields": fields})


def test_a_password_cannot_be_a_fixed_value():
    with pytest.raises(ProfileError, match="password cannot be a fixed value"):
        profile_from_json(
            {**BAMBOOHR, "fields": {**BAMBOOHR["fields"], "password": {"value": "Secret-1"}}}
        )


@pytest.mark.parametrize(
    "rule",
    [
        {"column": "Home Phone", "default": "Secret-1"},
        {"column": "Home Phone", "map": {"*": "Secret-1"}},
        {"column": "Home Phone", "map": {"x": "Secret-1"}},
    ],
)
def test_a_password_cannot_be_written_in_the_profile_as_a_default_or_a_map(rule):
    # The profile is shown on its page, exported as JSON and kept on every run: a password
    # written in it would be a secret stored and shown.
    with pytest.raises(ProfileError, match="password: a password cannot be written in a profile"):
        profile_from_json({**BAMBOOHR, "fields": {**BAMBOOHR["fields"], "password": rule}})


# Mapping a file --------------------------------------------------------------------------------


def test_a_file_lacking_mapped_columns_is_refused_before_any_row_naming_them():
    header = [name for name in HEADER if name not in ("Work Email", "City")]

    with pytest.raises(CsvFileError) as caught:
        profile_read(export(employee(), header=header), profile_from_json(BAMBOOHR))

    assert '"Work Email" (mapped to email)' in caught.value.message
    assert '"City" (mapped to city)' in caught.value.message


def test_a_list_of_columns_needs_only_one_of_them_in_the_file():
    header = [name for name in HEADER if name != "Preferred Name"]

    (row,) = values(export(employee(), header=header))

    assert row["firstName"] == "Alice"


def test_the_first_non_empty_column_of_a_list_wins():
    rows = values(
        export(employee(**{"Preferred Name": "Ally"}), employee(**{"Preferred Name": " "}))
    )

    assert [row["firstName"] for row in rows] == ["Ally", "Alice"]


def test_a_map_matches_the_trimmed_cell_in_any_case_and_falls_back_to_the_default():
    rows = values(
        export(
            employee(**{"Job Title": "  RECRUITER "}),
            employee(**{"Job Title": "Engineer"}),
            employee(**{"Job Title": ""}),
        )
    )

    assert [row["systemRoleId"] for row in rows] == ["STANDARD", "EMPLOYEE", "EMPLOYEE"]


def test_without_default_an_unmapped_cell_passes_through_and_a_star_catches_the_rest():
    rows = values(export(employee(Status="On leave"), employee(Department="Engineering")))
    assert rows[0]["active"] == "On leave"
    assert rows[1]["accessGroupId"] == "Engineering"

    catch_all = {"column": "Status", "map": {"Active": "true", "*": "false"}}
    spec = {**BAMBOOHR, "fields": {**BAMBOOHR["fields"], "active": catch_all}}
    assert values(export(employee(Status="On leave")), spec)[0]["active"] == "false"


def test_fixed_values_and_case_transforms():
    spec = {
        **BAMBOOHR,
        "fields": {**BAMBOOHR["fields"], "email": {"column": "Work Email", "transform": "lower"}},
    }

    (row,) = values(export(employee(**{"Work Email": "Alice.MARTIN@acme.example"})), spec)

    assert (row["email"], row["languageCode"], row["enabled"]) == (
        "alice.martin@acme.example",
        "en",
        "true",
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("France", "FR"),
        ("germany", "DE"),
        ("Allemagne", "DE"),
        ("Deutschland", "DE"),
        ("Alemania", "DE"),
        ("Espagne", "ES"),
        ("España", "ES"),
        ("Vereinigtes Königreich", "GB"),
        ("Reino Unido", "GB"),
        ("États-Unis", "US"),
        ("United States", "US"),
        ("us", "US"),
        ("CHE", "CH"),
    ],
)
def test_countries_in_english_french_german_or_spanish_become_iso_codes(name, code):
    assert country_code(name) == code
    (row,) = values(export(employee(Country=name)))
    assert row["countryCode"] == code


def test_an_unknown_country_is_reported_by_the_file_s_column():
    (planned,) = plan(export(employee(Country="Narnia")))

    assert planned.action is Action.ERROR
    (error,) = planned.errors
    assert (error.column, error.value) == ("Country", "Narnia")
    assert error.message.startswith("Country (mapped to countryCode): ")


def test_on_create_columns_are_kept_for_creates_only():
    records = profile_read(export(employee()), profile_from_json(BAMBOOHR))

    assert records.ignored == frozenset({"accessGroupId"})


# Errors name the file's own column ----------------------------------------------------------


def test_an_empty_work_email_is_named_by_its_column():
    (planned,) = plan(export(employee(**{"Work Email": ""})))

    (error,) = planned.errors
    assert (error.column, error.value) == ("Work Email", "")
    assert error.message == "Work Email is empty (mapped to email)."
    assert planned.message == "Work Email is empty (mapped to email)."


def test_plan_errors_name_the_file_s_column_too():
    planned = plan(export(employee(), employee(**{"Employee #": "E1002"})))

    assert planned[0].action is Action.UPDATE
    error = planned[1].errors[0]
    assert error.column == "Work Email"
    assert error.message.startswith("Work Email (mapped to email): This user already appears")


def test_the_failed_row_keeps_the_file_s_own_columns_and_no_password():
    spec = {**BAMBOOHR, "fields": {**BAMBOOHR["fields"], "password": {"column": "Home Phone"}}}
    data = export(employee(**{"Work Email": "", "Home Phone": "Pw-123456"}))

    (planned,) = plan(data, spec)
    records = profile_read(data, profile_from_json(spec))
    out = io.BytesIO()
    write_failed_rows(out, [planned.source], columns=records.columns)

    lines = out.getvalue().decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:5] == [
        '"Employee #"',
        '"First Name"',
        '"Preferred Name"',
        '"Last Name"',
        '"Work Email"',
    ]
    assert '"E1001","Alice","","Martin",""' in lines[1]
    assert "Pw-123456" not in out.getvalue().decode("utf-8-sig")
    fixed = out.getvalue().replace(b'"Martin",""', b'"Martin","alice.martin@acme.example"')
    assert plan(fixed, spec)[0].action is Action.UPDATE


def test_a_file_without_its_header_line_cannot_be_read_by_a_profile():
    with pytest.raises(CsvFileError, match="needs its header line"):
        profile_read(export(employee()), profile_from_json(BAMBOOHR), CsvOptions(header="no"))


# The 19-column format is the built-in profile -------------------------------------------------


@pytest.mark.parametrize("name", ["users-basic.csv", "excel-utf8-bom-semicolon.csv"])
def test_the_built_in_profile_and_its_json_read_a_sample_the_same(name):
    data = (SAMPLES / name).read_bytes()
    spec = {**STANDARD.to_json(), "name": "copy"}

    standard = [record.cells for record in profile_read(data, STANDARD)]
    copied = [record.cells for record in profile_read(data, profile_from_json(spec))]

    assert copied == [record.cells for record in read_csv(data)] == standard


# Users found by their employee id --------------------------------------------------------------


EMPLOYEE_ID = {**BAMBOOHR, "match": "externalData"}


def test_a_changed_work_email_is_planned_as_an_email_change():
    (planned,) = plan(export(employee(**{"Work Email": "alice.durand@acme.example"})), EMPLOYEE_ID)

    assert planned.action is Action.UPDATE
    assert planned.changes["email"] == ["alice.martin@acme.example", "alice.durand@acme.example"]
    assert planned.steps[0].data[0] == {
        "op": "replace",
        "path": "/email",
        "value": "alice.durand@acme.example",
    }


def test_two_rows_with_one_employee_id_are_an_error_on_both():
    data = export(
        employee(),
        employee(**{"Work Email": "someone.else@acme.example", "First Name": "Sam"}),
        employee(**{"Employee #": "E1002", "Work Email": "bob.keller@acme.example"}),
    )

    planned = plan(data, EMPLOYEE_ID)

    assert [row.action for row in planned[:2]] == [Action.ERROR, Action.ERROR]
    for row in planned[:2]:
        (error,) = row.errors
        assert (error.column, error.value) == ("Employee #", "E1001")
        assert 'The employee id "E1001" is on lines 2, 3 of the file' in error.message
    assert planned[2].action is Action.UPDATE


def test_a_user_without_an_employee_id_is_found_by_email_and_given_one():
    row = employee(
        **{
            "Employee #": "E1003",
            "Work Email": "carla.ruiz@acme.example",
            "First Name": "Carla",
            "Last Name": "Ruiz",
            "Status": "Terminated",
            "Country": "",
            "City": "",
        }
    )

    (planned,) = plan(export(row), EMPLOYEE_ID)

    assert planned.changes["externalData"] == [None, "E1003"]


def test_an_email_of_another_employee_is_an_error():
    row = employee(**{"Employee #": "E9999", "Work Email": "bob.keller@acme.example"})

    (planned,) = plan(export(row), EMPLOYEE_ID)

    (error,) = planned.errors
    assert error.column == "Work Email"
    assert 'employee id "E1002", not "E9999"' in error.message


def test_an_empty_employee_id_is_an_error_when_users_are_found_by_it():
    (planned,) = plan(export(employee(**{"Employee #": ""})), EMPLOYEE_ID)

    assert planned.errors[0].message == "Employee # is empty (mapped to externalData)."


# Whatever the file, a result or the file's error ----------------------------------------------

header_text = st.text(max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(header_text, min_size=1, max_size=8),
    rows=st.lists(st.lists(st.text(max_size=10), max_size=9), max_size=5),
    picks=st.lists(st.integers(min_value=0, max_value=7), min_size=11, max_size=11),
)
def test_any_header_and_cells_map_to_records_or_a_clear_error(header, rows, picks):
    """Profiles built on whatever the header holds (control characters, quotes, BOMs, accents)
    map any cells without raising; a file the profile cannot read is a CsvFileError."""
    names = [header[pick % len(header)] for pick in picks]
    fields = dict(zip([*sorted(BAMBOOHR["fields"])], names, strict=False))
    spec = {
        "name": "any",
        "fields": {
            field: {"column": name or "x", "map": {name or "x": "y", "*": ""}, "default": "d"}
            if index % 3 == 0
            else {"column": [name or "x", "x"], "transform": ("country", "lower")[index % 2]}
            for index, (field, name) in enumerate(fields.items())
        },
    }
    try:
        profile = profile_from_json(spec)
    except ProfileError:
        return
    binding_header = [cell.strip().lstrip("\ufeff").strip() for cell in header]
    try:
        binding = Binding(profile, binding_header)
    except CsvFileError as error:
        refusal = error.message
        assert "(mapped to" in refusal
        return
    directory = sample_directory()
    checker = RowChecker(roles=directory.roles, groups=directory.groups)
    for line, cells in enumerate(rows, start=2):
        padded = [*cells, *[""] * len(binding_header)][: len(binding_header)]
        record = binding.map(RawRecord(line, padded))
        assert len(record.cells) == len(COLUMNS)
        checked = checker.check(record)
        for planned in binding.name_sources(plan_rows([checked], "upsert", directory)):
            for error in planned.errors:
                assert error.message


def read_and_plan(data: bytes) -> str:
    """How many rows were planned, or the file's error."""
    try:
        records = profile_read(data, profile_from_json(BAMBOOHR), max_rows=100)
        checked = check_records(records, RowChecker(roles=[], groups=[]))
        planned = list(records.name_sources(plan_rows(checked, "upsert", sample_directory())))
    except CsvFileError as error:
        return error.message
    return f"{len(planned)} rows"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.binary(max_size=200), body=st.binary(max_size=400))
def test_any_bytes_in_the_header_give_rows_or_the_file_error(header, body):
    assert read_and_plan(header + b"\n" + body)


def test_bytes_that_read_give_rows():
    data = export(employee()).replace(b"Home Phone", b"\xff\xfeHome\x01Phone")

    assert read_and_plan(data) == "1 rows"
