"""Check one raw record: a typed ``UserRow``, or a ``RejectedRow`` holding every error it has.

Pure module. Roles and access groups come in as SmartRecruiters lists them (``{"id", "name"}``
dicts), so names are resolved to ids here, once per distinct value. Messages are sentences for
HR admins; each ``RowError`` names its line, column and value, and never a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pycountry
from email_validator import EmailNotValidError, validate_email

from imports.csvfile import COLUMNS, IGNORABLE_COLUMNS, RawRecord

# SmartRecruiters' language codes (smartrecruiters-api.md section 7), in canonical form.
LANGUAGE_CODES: tuple[str, ...] = (
    *("bg", "cs", "da", "de", "el", "en", "es", "es-MX", "fi", "fr", "fr-CA", "hr", "hu", "id"),
    *("it", "ja", "lt", "nl", "no", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sr", "sv"),
    *("th", "tr", "uk", "vi", "zh-CN", "zh-TW", "ka"),
)
MAX_NAME_LENGTH = 300
MAX_SSO_IDENTIFIER_LENGTH = 100
MAX_EMAIL_LENGTH = 254

_LANGUAGES = {code.lower(): code for code in LANGUAGE_CODES}
_COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_OPTIONAL_BOOLEANS = {**_BOOLEANS, "": False}
_FORMULA_STARTS = frozenset("=+-@\t\r")
_LOCATION_DETAILS = ("regionCode", "region", "city", "address", "postalCode")
_CACHE_LIMIT = 10_000
_PASSWORD = COLUMNS.index("password")


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of one row: where it is (line, column), what was there, and what is wrong."""

    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"Line {self.line}, column {self.column}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RowError:
        return cls(data["line"], data["column"], data["value"], data["message"])


@dataclass(slots=True)
class UserRow:
    """A row that passed every check. Empty optional cells are ``None``.

    ``system_role_id`` is ``None`` only when the column is ``!systemRoleId`` and the cell is empty
    or unknown; ``access_group_ids`` is ``None`` when the cell is empty. ``errors_if_created``
    holds the problems of ``!`` columns, which only matter if the row creates a user.
    ``source`` is the row as read (19 untrimmed values in ``COLUMNS`` order, password blank),
    for the failed-rows file.
    """

    line: int
    email: str
    first_name: str
    last_name: str
    system_role_id: str | None
    external_data: str | None
    language_code: str
    sso_identifier: str | None
    password: str | None = field(repr=False)
    active: bool
    enabled: bool
    country_code: str | None
    region_code: str | None
    region: str | None
    city: str | None
    address: str | None
    postal_code: str | None
    access_group_ids: tuple[str, ...] | None
    send_email: bool
    old_email: str | None
    ignore_role_on_update: bool = False
    ignore_groups_on_update: bool = False
    errors_if_created: tuple[RowError, ...] = ()
    source: list[str] = field(default_factory=list, repr=False, compare=False)

    @property
    def email_key(self) -> str:
        return self.email.lower()

    @property
    def old_email_key(self) -> str | None:
        return self.old_email.lower() if self.old_email else None

    @property
    def has_location(self) -> bool:
        return self.country_code is not None


@dataclass(slots=True)
class RejectedRow:
    """A row with at least one error; it is reported and never sent."""

    line: int
    email: str
    first_name: str
    last_name: str
    errors: tuple[RowError, ...]
    source: list[str] = field(default_factory=list, repr=False, compare=False)


def clean(value: str) -> str:
    """Trim a cell, and undo the ``'`` that our own CSV files put before ``=+-@`` (formulas)."""
    value = value.strip()
    if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
        value = value[1:].strip()
    return value


class EmailChecker:
    """email-validator (no DNS), with a fast path for plain addresses.

    An address made of ``[A-Za-z0-9_+-]`` dot-atoms before the ``@`` and a plain host name after
    it is valid exactly when its domain is, so each domain is validated once and remembered.
    """

    _PLAIN = re.compile(
        r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\Z"
    )

    def __init__(self) -> None:
        self._domains: dict[str, str | None] = {}

    def problem(self, address: str) -> str | None:
        """``None`` when ``address`` is valid, else why not (a sentence)."""
        match = self._PLAIN.match(address)
        if match is None or len(address) > MAX_EMAIL_LENGTH:
            return self._validate(address)
        domain = match.group(1)
        try:
            return self._domains[domain]
        except KeyError:
            problem = self._validate(f"a@{domain}")
            if len(self._domains) < _CACHE_LIMIT:
                self._domains[domain] = problem
            return problem

    @staticmethod
    def _validate(address: str) -> str | None:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as error:
            return str(error)
        return None


class Catalogue:
    """System roles or access groups, found by exact id or by case-insensitive id or name."""

    def __init__(self, items: Iterable[Mapping[str, Any]]) -> None:
        self._ids: set[str] = set()
        self._folded: dict[str, list[str]] = {}
        for item in items:
            item_id = str(item["id"])
            self._ids.add(item_id)
            for key in {item_id.lower(), str(item.get("name") or "").strip().lower()}:
                ids = self._folded.setdefault(key, []) if key else []
                if key and item_id not in ids:
                    ids.append(item_id)

    def find(self, value: str) -> tuple[str | None, tuple[str, ...]]:
        """(the id, ()) for exactly one match, else (None, the ids matched: none or several)."""
        if value in self._ids:
            return value, ()
        matches = tuple(self._folded.get(value.lower(), ()))
        return (matches[0], ()) if len(matches) == 1 else (None, matches)


class RowChecker:
    """Checks the rows of one file against one company's roles and access groups."""

    def __init__(
        self,
        *,
        roles: Iterable[Mapping[str, Any]],
        groups: Iterable[Mapping[str, Any]],
        ignored: Iterable[str] = frozenset(),
    ) -> None:
        self._roles = Catalogue(roles)
        self._groups = Catalogue(groups)
        self._ignored = frozenset(ignored) & IGNORABLE_COLUMNS
        self._ignore_role = "systemRoleId" in self._ignored
        self._ignore_groups = "accessGroupId" in self._ignored
        self._emails = EmailChecker()
        self._role_cache: dict[str, tuple[str | None, str | None]] = {}
        self._group_cache: dict[str, tuple[tuple[str, ...] | None, tuple[str, ...]]] = {}

    def check(self, record: RawRecord) -> UserRow | RejectedRow:
        """Check one record. Its password cell is blanked once read: from here on the secret
        lives only in ``UserRow.password``."""
        line = record.line
        cells = [value.strip() for value in record.cells]
        if "'" in "".join(cells):
            cells = [clean(value) for value in cells]
        (
            email, first_name, last_name, role, external_data, language_code, sso, password,
            active_text, enabled_text, country_code, region_code, region, city, address,
            postal_code, groups, send_email_text, old_email,
        ) = cells  # fmt: skip
        record.cells[_PASSWORD] = ""
        # (column, value, message) of each problem; those of "!" columns only matter on create.
        problems: list[tuple[str, str, str]] = []
        create_problems: list[tuple[str, str, str]] = []

        if not email:
            problems.append(("email", email, "The email address is missing."))
        elif problem := self._emails.problem(email):
            problems.append(("email", email, f'"{email}" is not a valid email address. {problem}'))
        if not first_name or len(first_name) > MAX_NAME_LENGTH:
            problems.append(("firstName", first_name, _name_problem("first name", first_name)))
        if not last_name or len(last_name) > MAX_NAME_LENGTH:
            problems.append(("lastName", last_name, _name_problem("last name", last_name)))
        role_id, problem = self._role(role)
        if problem:
            (create_problems if self._ignore_role else problems).append(
                ("systemRoleId", role, problem)
            )
        language = _LANGUAGES.get(language_code.lower())
        if language is None:
            problems.append(("languageCode", language_code, _language_problem(language_code)))
        if len(sso) > MAX_SSO_IDENTIFIER_LENGTH:
            problems.append(("ssoIdentifier", sso, _sso_problem(sso)))
        active = _BOOLEANS.get(active_text.lower())
        if active is None:
            problems.append(("active", active_text, _boolean_problem("active", active_text)))
        enabled = _BOOLEANS.get(enabled_text.lower())
        if enabled is None:
            problems.append(("enabled", enabled_text, _boolean_problem("enabled", enabled_text)))
        send_email = _OPTIONAL_BOOLEANS.get(send_email_text.lower())
        if send_email is None:
            message = _boolean_problem("sendEmail", send_email_text)
            problems.append(("sendEmail", send_email_text, message))
        country = country_code.upper()
        if country:
            location_fits = country in _COUNTRIES and bool(city)
        else:
            location_fits = not (region_code or region or city or address or postal_code)
        if not location_fits:
            location = (country, region_code, region, city, address, postal_code)
            problems.extend(_location_problems(country_code, *location))
        group_ids, group_problems = self._groups_of(groups)
        for problem in group_problems:
            (create_problems if self._ignore_groups else problems).append(
                ("accessGroupId", groups, problem)
            )
        if old_email and (problem := self._emails.problem(old_email)):
            message = f'The old email "{old_email}" is not a valid email address. {problem}'
            problems.append(("oldEmail", old_email, message))

        if problems:
            errors = tuple(RowError(line, *problem) for problem in problems)
            return RejectedRow(line, email, first_name, last_name, errors, record.cells)
        # Positional, in field order: this runs once per row of files of up to 200,000 rows.
        return UserRow(
            line,
            email,
            first_name,
            last_name,
            role_id,
            external_data or None,
            language or "",
            sso or None,
            password or None,
            bool(active),
            bool(enabled),
            country or None,
            region_code or None,
            region or None,
            city or None,
            address or None,
            postal_code or None,
            group_ids,
            bool(send_email),
            old_email or None,
            self._ignore_role,
            self._ignore_groups,
            tuple(RowError(line, *problem) for problem in create_problems)
            if create_problems
            else (),
            record.cells,
        )

    def _role(self, value: str) -> tuple[str | None, str | None]:
        """(role id, None), or (None, what is wrong); remembered per distinct value."""
        cached = self._role_cache.get(value)
        if cached is not None:
            return cached
        role_id, matches = self._roles.find(value)
        problem = None
        if not value:
            problem = "The system role is missing."
            if self._ignore_role:
                problem = "A system role is required to create a user (column !systemRoleId)."
        elif role_id is None and matches:
            problem = (
                f'Role name "{value}" matches several roles in your SmartRecruiters company '
                f"(ids {', '.join(matches)}); use the role's id instead."
            )
        elif role_id is None:
            problem = f'Selected role "{value}" does not exist in your SmartRecruiters company.'
        if len(self._role_cache) < _CACHE_LIMIT:
            self._role_cache[value] = (role_id, problem)
        return role_id, problem

    def _groups_of(self, value: str) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        """(group ids or None for an empty cell, what is wrong); remembered per distinct value."""
        cached = self._group_cache.get(value)
        if cached is not None:
            return cached
        ids: list[str] = []
        problems: list[str] = []
        for part in value.split("|"):
            name = part.strip()
            if not name:
                continue
            group_id, matches = self._groups.find(name)
            if group_id is not None:
                if group_id not in ids:
                    ids.append(group_id)
            elif matches:
                problems.append(
                    f'Access group name "{name}" matches several access groups in your '
                    f"SmartRecruiters company (ids {', '.join(matches)}); use the group's id "
                    "instead."
                )
            else:
                problems.append(
                    f'Access group "{name}" does not exist in your SmartRecruiters company.'
                )
        result = (tuple(ids) or None, tuple(problems))
        if len(self._group_cache) < _CACHE_LIMIT:
            self._group_cache[value] = result
        return result


def check_records(
    records: Iterable[RawRecord], checker: RowChecker
) -> Iterator[UserRow | RejectedRow]:
    """Check records one by one, streamed."""
    for record in records:
        yield checker.check(record)


def _name_problem(what: str, value: str) -> str:
    if not value:
        return f"The {what} is missing."
    return (
        f"The {what} has {len(value)} characters; SmartRecruiters allows at most {MAX_NAME_LENGTH}."
    )


def _language_problem(value: str) -> str:
    if not value:
        return "The language code is missing."
    return (
        f'"{value}" is not a language code SmartRecruiters knows. Use one of: '
        f"{', '.join(LANGUAGE_CODES)}."
    )


def _sso_problem(value: str) -> str:
    return (
        f"The SSO identifier has {len(value)} characters; SmartRecruiters allows at most "
        f"{MAX_SSO_IDENTIFIER_LENGTH}."
    )


def _location_problems(
    country_code: str,
    country: str,
    region_code: str,
    region: str,
    city: str,
    address: str,
    postal_code: str,
) -> list[tuple[str, str, str]]:
    """Any location detail needs a country; a country needs a city and must exist."""
    problems = []
    if not country:
        details = (region_code, region, city, address, postal_code)
        filled = ", ".join(
            name for name, value in zip(_LOCATION_DETAILS, details, strict=True) if value
        )
        message = f"A location needs a country: countryCode is empty while {filled} is filled."
        return [("countryCode", country_code, message)]
    if country not in _COUNTRIES:
        message = (
            f'"{country_code}" is not an ISO 3166 two-letter country code (for example FR, DE '
            "or US)."
        )
        problems.append(("countryCode", country_code, message))
    if not city:
        message = "The city is missing: a location with a countryCode needs a city."
        problems.append(("city", city, message))
    return problems


def _boolean_problem(column: str, value: str) -> str:
    if not value:
        return f"The {column} value is missing; write true or false."
    return f'"{value}" is not a yes/no value for {column}; write true or false.'


def canonical_language(code: str | None) -> str | None:
    """A language code in SmartRecruiters' form (``es-mx`` -> ``es-MX``); unknown codes as given."""
    if not code:
        return None
    return _LANGUAGES.get(code.lower(), code)
