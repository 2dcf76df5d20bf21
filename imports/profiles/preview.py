"""The profile page's pure parts: a sample's first rows, a first guess of the mapping from the
header's names, and the preview of those rows as SmartRecruiters would receive them."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

from imports.csvfile import COLUMNS, CsvOptions, read_csv
from imports.planner import PlannedRow
from imports.planner.plans import Action
from imports.profiles.mapping import profile_read
from imports.profiles.spec import Profile
from imports.rows import RowChecker, RowError, UserRow

PREVIEW_ROWS = 20
MASK = "••••"  # a password, as the page shows and keeps it
# Folded header names that say a column holds passwords (English, French, German, Spanish).
_PASSWORD_NAMES = ("password", "passwd", "pwd", "motdepasse", "passwort", "kennwort", "contrasena")
SAMPLE_MAX_BYTES = 5 * 1024 * 1024
SHOWN = (
    "email", "firstName", "lastName", "systemRoleId", "externalData", "languageCode",
    "ssoIdentifier", "active", "enabled", "countryCode", "regionCode", "city", "address",
    "postalCode", "accessGroupId", "sendEmail", "oldEmail",
)  # fmt: skip

# Header names (folded: lower case, letters and digits only) that usually hold each field.
_GUESSES: dict[str, tuple[str, ...]] = {
    "email": ("workemail", "primaryworkemail", "email", "emailaddress", "businessemail", "mail"),
    "firstName": ("preferredname", "preferredfirstname", "firstname", "legalfirstname",
                  "givenname", "forename"),
    "lastName": ("lastname", "legallastname", "surname", "familyname", "preferredlastname"),
    "externalData": ("employee", "employeeid", "employeenumber", "employeeno", "workerid", "id",
                     "userid", "empid", "personnelnumber"),
    "systemRoleId": ("systemroleid", "role", "jobtitle", "businesstitle", "title", "position"),
    "languageCode": ("languagecode", "language", "preferredlanguage", "locale"),
    "ssoIdentifier": ("ssoidentifier", "sso", "username", "login"),
    "active": ("active", "status", "employmentstatus", "activestatus", "lifecyclestatus"),
    "countryCode": ("countrycode", "country", "workcountry"),
    "regionCode": ("regioncode", "statecode", "state"),
    "city": ("city", "workcity", "town"),
    "address": ("address", "address1", "street", "addr1"),
    "postalCode": ("postalcode", "zip", "zipcode", "postcode"),
    "accessGroupId": ("accessgroupid", "accessgroup", "department", "team"),
    "oldEmail": ("oldemail", "previousemail"),
}  # fmt: skip


def _fold(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_fields(header: Sequence[str]) -> dict[str, dict[str, Any]]:
    """A first mapping from the header's names: each field the column that usually holds it
    (its first match in the order above), else nothing; required yes/no fields a value."""
    folded: dict[str, str] = {}
    for name in header:
        folded.setdefault(_fold(name), name)
    guessed: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for field_name, names in _GUESSES.items():
        found = [folded[name] for name in names if name in folded and folded[name] not in taken]
        # Names: a preferred name first, the legal one when it is empty.
        found = found[: 2 if field_name in ("firstName", "lastName") else 1]
        if found:
            guessed[field_name] = {"column": found[0] if len(found) == 1 else found}
            taken.update(found)
    guessed.setdefault("languageCode", {"value": "en"})
    guessed.setdefault("active", {"value": "true"})
    guessed.setdefault("enabled", {"value": "true"})
    guessed.setdefault("systemRoleId", {"value": "EMPLOYEE"})
    if guessed.get("active", {}).get("column"):
        guessed["active"]["map"] = {"Active": "true", "Inactive": "false", "Terminated": "false"}
    if guessed.get("countryCode", {}).get("column"):
        guessed["countryCode"]["transform"] = "country"
    return guessed


@dataclass(frozen=True)
class Sample:
    """A sample file's header and first rows, as CSV text (UTF-8, commas) the page keeps."""

    header: tuple[str, ...]
    text: str


def sample_read(
    source: bytes | IO[bytes],
    options: CsvOptions | None = None,
    *,
    secret_columns: Iterable[str] = (),
) -> Sample:
    """The header and the first ``PREVIEW_ROWS`` rows of a file. Raises ``CsvFileError``.

    The page keeps the sample, so no password may be in it: the cells of ``secret_columns``
    (those the profile maps to the password) and of every column whose name says password are
    kept as ``MASK`` (the preview only shows whether a password is given)."""
    csv_file = read_csv(source, options, max_bytes=SAMPLE_MAX_BYTES, raw_header=True)
    header = tuple(csv_file.dialect.columns)
    named = {column.strip().lower() for column in secret_columns}
    secret = [
        position
        for position, name in enumerate(header)
        if name.strip().lower() in named or any(hint in _fold(name) for hint in _PASSWORD_NAMES)
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for record in islice(csv_file, PREVIEW_ROWS):
        cells = list(record.cells)
        for position in secret:
            if position < len(cells) and cells[position].strip():
                cells[position] = MASK
        writer.writerow(cells)
    return Sample(header, out.getvalue())


_ROLE = COLUMNS.index("systemRoleId")
_GROUPS = COLUMNS.index("accessGroupId")


def _as_known(values: Iterable[str]) -> list[dict[str, str]]:
    names = {value.strip() for value in values if value.strip()}
    return [{"id": name, "name": name} for name in sorted(names)]


@dataclass
class PreviewRow:
    """One row as SmartRecruiters would receive it (``values`` by field), or its errors."""

    line: int
    values: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    create_only: list[RowError] = field(default_factory=list)


def preview_rows(
    profile: Profile,
    sample: str,
    *,
    roles: Iterable[Mapping[str, Any]] | None,
    groups: Iterable[Mapping[str, Any]] | None,
) -> list[PreviewRow]:
    """The sample's rows mapped and checked (not planned: who exists is not read here).
    Without ``roles`` and ``groups`` (they could not be read) every role and group is taken as
    it is. Raises ``CsvFileError`` when the profile cannot read the sample (a column it lacks)."""
    records = profile_read(
        sample.encode("utf-8"), profile, CsvOptions(delimiter=",", quotechar='"')
    )
    binding = records.binding
    mapped = list(islice(records, PREVIEW_ROWS))
    if roles is None or groups is None:
        roles = _as_known(record.cells[_ROLE] for record in mapped)
        groups = _as_known(part for record in mapped for part in record.cells[_GROUPS].split("|"))
    checker = RowChecker(roles=roles, groups=groups, ignored=records.ignored)
    rows = []
    for record in mapped:
        cells = dict(zip(COLUMNS, (cell.strip() for cell in record.cells), strict=True))
        cells["password"] = MASK if cells["password"] else ""
        checked = checker.check(record)
        source = record.source if record.source is not None else record.cells

        def named(errors: Iterable[RowError], source: list[str] = source) -> list[RowError]:
            planned = PlannedRow(0, "", "", "", Action.ERROR, errors=list(errors), source=source)
            if binding is None:
                return planned.errors
            return next(binding.name_sources([planned])).errors

        if isinstance(checked, UserRow):
            cells.update(
                systemRoleId=checked.system_role_id or cells["systemRoleId"],
                languageCode=checked.language_code,
                active="true" if checked.active else "false",
                enabled="true" if checked.enabled else "false",
                countryCode=checked.country_code or "",
                accessGroupId="|".join(checked.access_group_ids or ()),
                sendEmail="true" if checked.send_email else "",
            )
            rows.append(PreviewRow(record.line, cells, [], named(checked.errors_if_created)))
        else:
            rows.append(PreviewRow(record.line, cells, named(checked.errors)))
    return rows
