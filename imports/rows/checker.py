"""Check one raw record: a typed ``UserRow``, or a ``RejectedRow`` holding every error it has."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from imports.csvfile import COLUMNS, IGNORABLE_COLUMNS, RawRecord
from imports.rows.shapes import RejectedRow, RowError, UserRow
from imports.rows.values import (
    BOOLEANS,
    CACHE_LIMIT,
    COUNTRIES,
    LANGUAGE_CODES,
    LANGUAGES,
    MAX_NAME_LENGTH,
    MAX_SSO_IDENTIFIER_LENGTH,
    OPTIONAL_BOOLEANS,
    Catalogue,
    EmailChecker,
    clean,
)

_LOCATION_DETAILS = ("regionCode", "region", "city", "address", "postalCode")
_PASSWORD = COLUMNS.index("password")


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
        source = record.cells if record.source is None else record.source
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
        language = LANGUAGES.get(language_code.lower())
        if language is None:
            problems.append(("languageCode", language_code, _language_problem(language_code)))
        if len(sso) > MAX_SSO_IDENTIFIER_LENGTH:
            problems.append(("ssoIdentifier", sso, _sso_problem(sso)))
        active = BOOLEANS.get(active_text.lower())
        if active is None:
            problems.append(("active", active_text, _boolean_problem("active", active_text)))
        enabled = BOOLEANS.get(enabled_text.lower())
        if enabled is None:
            problems.append(("enabled", enabled_text, _boolean_problem("enabled", enabled_text)))
        send_email = OPTIONAL_BOOLEANS.get(send_email_text.lower())
        if send_email is None:
            message = _boolean_problem("sendEmail", send_email_text)
            problems.append(("sendEmail", send_email_text, message))
        country = country_code.upper()
        if country:
            location_fits = country in COUNTRIES and bool(city)
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
            return RejectedRow(line, email, first_name, last_name, errors, source, old_email)
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
            source,
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
        if len(self._role_cache) < CACHE_LIMIT:
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
        if len(self._group_cache) < CACHE_LIMIT:
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
    if country not in COUNTRIES:
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
