"""Checking rows: typed values, names resolved to ids, every error with line, column and value."""

from __future__ import annotations

import pytest

from imports.csvfile import COLUMNS, RawRecord, read_csv
from imports.rows import RejectedRow, RowChecker, UserRow
from tests.imports import DATA, SAMPLES, sample_directory

DIRECTORY = sample_directory()
GOOD = {
    "email": "ann.lee@acme.example",
    "firstName": "Ann",
    "lastName": "Lee",
    "systemRoleId": "EMPLOYEE",
    "languageCode": "en",
    "active": "true",
    "enabled": "true",
}


def record(line: int = 2, **values: str) -> RawRecord:
    cells = {**dict.fromkeys(COLUMNS, ""), **GOOD, **values}
    return RawRecord(line, [cells[name] for name in COLUMNS])


def checker(*ignored: str, roles=None, groups=None) -> RowChecker:
    return RowChecker(
        roles=DIRECTORY.roles if roles is None else roles,
        groups=DIRECTORY.groups if groups is None else groups,
        ignored=ignored,
    )


def check(**values: str) -> UserRow:
    row = checker().check(record(**values))
    assert isinstance(row, UserRow), row
    return row


def errors(**values: str) -> list[tuple[int, str, str]]:
    row = checker().check(record(**values))
    assert isinstance(row, RejectedRow), row
    return [(error.line, error.column, error.message) for error in row.errors]


def test_values_are_trimmed_and_typed():
    row = check(
        email="  ann.lee@acme.example ",
        firstName=" Ann ",
        externalData=" E42 ",
        active=" TRUE ",
        enabled="No",
        sendEmail="YES",
        countryCode=" fr ",
        city=" Paris ",
    )

    assert (row.email, row.first_name, row.external_data) == ("ann.lee@acme.example", "Ann", "E42")
    assert (row.active, row.enabled, row.send_email) == (True, False, True)
    assert (row.country_code, row.city) == ("FR", "Paris")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("Yes", True)],
        *[("false", False), ("False", False), ("0", False), ("no", False)],
    ],
)
def test_booleans_accept_every_spelling_in_any_case(text, parsed):
    assert check(active=text).active is parsed


def test_empty_optional_cells_are_none_and_send_email_defaults_to_false():
    row = check()

    assert row.external_data is None
    assert row.sso_identifier is None
    assert row.password is None
    assert row.access_group_ids is None
    assert row.old_email is None
    assert row.send_email is False


@pytest.mark.parametrize(
    ("written", "sent"), [("es-mx", "es-MX"), ("ZH-cn", "zh-CN"), ("FR", "fr")]
)
def test_language_codes_are_sent_in_canonical_form(written, sent):
    assert check(languageCode=written).language_code == sent


def test_role_is_found_by_id_or_by_name_in_any_case():
    assert check(systemRoleId="STANDARD").system_role_id == "STANDARD"
    assert check(systemRoleId="standard").system_role_id == "STANDARD"
    assert check(systemRoleId="hiring MANAGER").system_role_id == "64b7f0c2a1d3e4f5a6b7c8d9"


def test_groups_are_found_by_ids_and_names_joined_with_bars():
    row = check(accessGroupId="engineering | SALES EMEA|60497fe33e2b74a609b7e410|Engineering")

    assert row.access_group_ids == (
        "60497fe33e2b74a609b7e412",
        "60497fe33e2b74a609b7e411",
        "60497fe33e2b74a609b7e410",
    )


def test_a_name_matching_two_roles_is_ambiguous():
    roles = [{"id": "R1", "name": "Recruiter"}, {"id": "R2", "name": "recruiter"}]

    row = checker(roles=roles).check(record(systemRoleId="Recruiter"))

    assert isinstance(row, RejectedRow)
    assert row.errors[0].column == "systemRoleId"
    assert "matches several roles" in row.errors[0].message
    assert "R1, R2" in row.errors[0].message


def test_an_exact_id_wins_over_another_role_s_name():
    roles = [{"id": "ADMIN", "name": "Administrator"}, {"id": "X1", "name": "admin"}]

    row = checker(roles=roles).check(record(systemRoleId="ADMIN"))

    assert isinstance(row, UserRow)
    assert row.system_role_id == "ADMIN"


def test_an_unknown_role_is_explained_in_words():
    assert errors(systemRoleId="Foo") == [
        (2, "systemRoleId", 'Selected role "Foo" does not exist in your SmartRecruiters company.')
    ]


def test_every_error_of_a_row_is_reported_at_once_with_line_column_and_value():
    row = checker().check(
        record(
            line=14,
            email="",
            firstName="",
            lastName="",
            systemRoleId="",
            languageCode="xx",
            active="maybe",
            enabled="maybe",
            countryCode="ZZ",
        )
    )

    assert isinstance(row, RejectedRow)
    assert [(e.line, e.column, e.value) for e in row.errors] == [
        (14, "email", ""),
        (14, "firstName", ""),
        (14, "lastName", ""),
        (14, "systemRoleId", ""),
        (14, "languageCode", "xx"),
        (14, "active", "maybe"),
        (14, "enabled", "maybe"),
        (14, "countryCode", "ZZ"),
        (14, "city", ""),
    ]
    assert str(row.errors[5]) == (
        'Line 14, column active: "maybe" is not a yes/no value for active; write true or false.'
    )


@pytest.mark.parametrize(
    ("values", "column", "words"),
    [
        ({"email": "not-an-email"}, "email", '"not-an-email" is not a valid email address'),
        ({"email": "a..b@acme.example"}, "email", "two periods in a row"),
        ({"oldEmail": "old@"}, "oldEmail", 'The old email "old@" is not a valid email address'),
        (
            {"firstName": "x" * 301},
            "firstName",
            "301 characters; SmartRecruiters allows at most 300",
        ),
        ({"lastName": ""}, "lastName", "The last name is missing."),
        ({"languageCode": "klingon"}, "languageCode", '"klingon" is not a language code'),
        ({"languageCode": ""}, "languageCode", "The language code is missing."),
        ({"ssoIdentifier": "s" * 101}, "ssoIdentifier", "101 characters"),
        ({"enabled": ""}, "enabled", "The enabled value is missing"),
        ({"sendEmail": "sometimes"}, "sendEmail", '"sometimes" is not a yes/no value'),
        ({"city": "Paris"}, "countryCode", "countryCode is empty while city is filled"),
        ({"regionCode": "CA"}, "countryCode", "countryCode is empty while regionCode is filled"),
        ({"countryCode": "FR"}, "city", "The city is missing"),
        ({"countryCode": "ZZ", "city": "X"}, "countryCode", '"ZZ" is not an ISO 3166'),
        ({"accessGroupId": "Engineering|Nope"}, "accessGroupId", 'Access group "Nope" does not'),
    ],
)
def test_each_rule_names_its_column(values, column, words):
    (found,) = errors(**values)

    assert found[1] == column
    assert words in found[2]


def test_an_unknown_language_lists_the_known_codes_in_alphabetical_order():
    (found,) = errors(languageCode="klingon")

    listed = found[2].split("Use one of: ", 1)[1].rstrip(".").split(", ")
    assert listed == sorted(listed, key=str.lower)
    assert "ka" in listed
    assert listed[-2:] == ["zh-CN", "zh-TW"]


def test_sso_identifier_of_100_characters_and_names_of_300_are_accepted():
    row = check(ssoIdentifier="s" * 100, firstName="f" * 300)

    assert len(row.sso_identifier or "") == 100


def test_the_password_is_kept_for_the_create_but_never_shown():
    raw = record(password="S3cret-Passw0rd", languageCode="klingon")
    rejected = checker().check(raw)
    row = check(password="S3cret-Passw0rd")

    assert row.password == "S3cret-Passw0rd"
    assert "S3cret" not in repr(row)
    assert isinstance(rejected, RejectedRow)
    assert "S3cret" not in repr(rejected)
    assert all("S3cret" not in str(error) for error in rejected.errors)
    assert raw.cells[COLUMNS.index("password")] == ""
    assert "S3cret" not in repr(row.source)


def test_source_keeps_the_row_as_read_without_the_password():
    row = check(firstName=" Ann ", password="pw")

    assert row.source[COLUMNS.index("firstName")] == " Ann "
    assert row.source[COLUMNS.index("password")] == ""


def test_our_own_formula_neutralising_apostrophe_is_taken_off():
    (raw,) = read_csv((DATA / "neutralised-cells.csv").read_bytes())

    row = checker().check(raw)

    assert isinstance(row, UserRow)
    assert (row.email, row.first_name, row.last_name) == ("=formula@acme.example", "-Dash", "+Plus")
    assert row.external_data == "@ref"


def test_an_apostrophe_inside_a_name_is_kept():
    assert check(lastName="O'Brien", firstName="'t Hooft").last_name == "O'Brien"
    assert check(firstName="'t Hooft").first_name == "'t Hooft"


def test_bang_role_column_defers_its_errors_to_creates():
    empty = checker("systemRoleId").check(record(systemRoleId=""))
    unknown = checker("systemRoleId").check(record(systemRoleId="Nope"))

    assert isinstance(empty, UserRow)
    assert empty.system_role_id is None
    assert empty.ignore_role_on_update
    assert [e.column for e in empty.errors_if_created] == ["systemRoleId"]
    assert "required to create a user" in empty.errors_if_created[0].message
    assert isinstance(unknown, UserRow)
    assert "does not exist" in unknown.errors_if_created[0].message


def test_bang_group_column_defers_unknown_groups_to_creates():
    row = checker("accessGroupId").check(record(accessGroupId="Engineering|Nope"))

    assert isinstance(row, UserRow)
    assert row.ignore_groups_on_update
    assert row.access_group_ids == ("60497fe33e2b74a609b7e412",)
    assert [e.column for e in row.errors_if_created] == ["accessGroupId"]


def test_corpus_row_errors_each_name_the_expected_column():
    csv_file = read_csv((DATA / "row-errors.csv").read_bytes())
    rows = [checker().check(raw) for raw in csv_file]

    assert isinstance(rows[0], UserRow)
    columns = {row.line: [e.column for e in row.errors] for row in rows[1:]}
    assert columns == {
        3: ["email"],
        4: ["lastName"],
        5: ["firstName"],
        6: ["systemRoleId"],
        7: ["languageCode"],
        8: ["enabled"],
        9: ["sendEmail"],
        10: ["oldEmail"],
        11: ["countryCode"],
        12: ["countryCode"],
        13: ["accessGroupId"],
        14: [
            "email",
            "firstName",
            "lastName",
            "systemRoleId",
            "languageCode",
            "active",
            "enabled",
            "countryCode",
            "city",
        ],
    }


def test_sample_errors_file_names_the_expected_column_on_each_line():
    csv_file = read_csv((SAMPLES / "errors.csv").read_bytes())
    rows = {raw.line: checker().check(raw) for raw in csv_file}

    columns = {
        line: [e.column for e in row.errors]
        for line, row in rows.items()
        if isinstance(row, RejectedRow)
    }
    assert columns == {
        2: ["email"],
        3: ["firstName"],
        4: ["systemRoleId"],
        5: ["languageCode"],
        6: ["active"],
        7: ["countryCode"],
        8: ["city"],
        9: ["countryCode"],
        10: ["accessGroupId"],
        13: ["ssoIdentifier"],
    }


def test_role_and_group_names_file_resolves_to_ids():
    (raw,) = read_csv((DATA / "role-and-group-names.csv").read_bytes())

    row = checker().check(raw)

    assert isinstance(row, UserRow)
    assert row.system_role_id == "64b7f0c2a1d3e4f5a6b7c8d9"
    assert row.access_group_ids == (
        "60497fe33e2b74a609b7e412",
        "60497fe33e2b74a609b7e411",
        "60497fe33e2b74a609b7e410",
    )


def test_spreadsheet_exports_check_without_errors():
    names = [
        "excel-csv-utf8-semicolon.csv",
        "excel-csv-windows-1252-comma.csv",
        "libreoffice-calc.csv",
        "google-sheets.csv",
        "excel-unicode-text-utf16le-tab.csv",
        "header-reordered-subset.csv",
    ]
    for name in names:
        for raw in read_csv((DATA / name).read_bytes()):
            row = checker().check(raw)
            assert isinstance(row, UserRow), (name, row)

    (google_second,) = [
        checker().check(raw)
        for raw in read_csv((DATA / "google-sheets.csv").read_bytes())
        if raw.line == 3
    ]
    assert isinstance(google_second, UserRow)
    assert (google_second.system_role_id, google_second.language_code) == ("EMPLOYEE", "pt-BR")
