"""What a valid value is: languages, countries, yes/no words, emails, roles and groups."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pycountry
from email_validator import EmailNotValidError, validate_email

# SmartRecruiters' language codes (smartrecruiters-api.md section 7), in canonical form and in
# alphabetical order, as messages and the help pages list them.
LANGUAGE_CODES: tuple[str, ...] = (
    *("bg", "cs", "da", "de", "el", "en", "es", "es-MX", "fi", "fr", "fr-CA", "hr", "hu", "id"),
    *("it", "ja", "ka", "lt", "nl", "no", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sr"),
    *("sv", "th", "tr", "uk", "vi", "zh-CN", "zh-TW"),
)
MAX_NAME_LENGTH = 300
MAX_SSO_IDENTIFIER_LENGTH = 100
MAX_EMAIL_LENGTH = 254

LANGUAGES = {code.lower(): code for code in LANGUAGE_CODES}
COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
OPTIONAL_BOOLEANS = {**BOOLEANS, "": False}
_FORMULA_STARTS = frozenset("=+-@\t\r")
CACHE_LIMIT = 10_000


def clean(value: str) -> str:
    """Trim a cell, and undo the ``'`` that our own CSV files put before ``=+-@`` (formulas)."""
    value = value.strip()
    if value[:1] == "'" and value[1:2] in _FORMULA_STARTS:
        value = value[1:].strip()
    return value


def canonical_language(code: str | None) -> str | None:
    """A language code in SmartRecruiters' form (``es-mx`` -> ``es-MX``); unknown codes as given."""
    if not code:
        return None
    return LANGUAGES.get(code.lower(), code)


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
            if len(self._domains) < CACHE_LIMIT:
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
