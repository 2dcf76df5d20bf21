"""A profile: how the columns of an HR system's export become the 19 fields of the format.

A profile is plain data (the JSON below), checked by ``profile_from_json`` into a ``Profile``;
``Profile.to_json`` gives the same JSON back. The 19-column format itself is the built-in
profile ``STANDARD``.

    {"name": "bamboohr", "match": "email",
     "fields": {"email": {"column": "Work Email"},
                "firstName": {"column": ["Preferred Name", "First Name"]},
                "active": {"column": "Status", "map": {"Active": "true", "*": "false"}},
                "languageCode": {"value": "en"},
                "countryCode": {"column": "Country", "transform": "country"},
                "accessGroupId": {"column": "Department", "on": "create"}}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from imports.csvfile import COLUMNS, IGNORABLE_COLUMNS, REQUIRED_COLUMNS

MATCHES = ("email", "externalData")
TRANSFORMS = ("lower", "upper", "country")
PROFILE_KEYS = ("name", "match", "fields")
RULE_KEYS = ("column", "value", "map", "default", "transform", "on")
MAX_NAME_LENGTH = 100
CATCH_ALL = "*"
STANDARD_NAME = "standard"


class ProfileError(ValueError):
    """A profile that cannot be used; ``problems`` are sentences naming what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass(frozen=True)
class Rule:
    """How one field is filled: from ``columns`` (the first non-empty cell wins) or ``value``."""

    columns: tuple[str, ...] = ()
    value: str | None = None
    map: Mapping[str, str] = field(default_factory=dict)  # keys as written
    default: str | None = None
    transform: str | None = None
    on_create: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.value is not None:
            data["value"] = self.value
        else:
            data["column"] = self.columns[0] if len(self.columns) == 1 else list(self.columns)
        if self.map:
            data["map"] = dict(self.map)
        if self.default is not None:
            data["default"] = self.default
        if self.transform:
            data["transform"] = self.transform
        if self.on_create:
            data["on"] = "create"
        return data


@dataclass(frozen=True)
class Profile:
    """A checked profile. ``standard`` is the built-in 19-column format (header optional,
    names in any case, ``!`` prefixes), read by the format's own reader."""

    name: str
    fields: Mapping[str, Rule]
    match: str = "email"
    standard: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Every source column the profile names, in field order, each once."""
        seen: dict[str, None] = {}
        for rule in self.fields.values():
            for column in rule.columns:
                seen.setdefault(column, None)
        return tuple(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "match": self.match,
            "fields": {name: rule.to_json() for name, rule in self.fields.items()},
        }


STANDARD = Profile(
    name=STANDARD_NAME,
    fields={name: Rule(columns=(name,)) for name in COLUMNS},
    standard=True,
)


def profile_from_json(data: Any, *, name: str | None = None) -> Profile:
    """Check a profile's JSON; raise ``ProfileError`` naming every problem found.

    ``name``, when given, replaces the JSON's own name (the page edits a named profile).
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ProfileError(["A profile is a JSON object with a name and fields."])
    unknown = [key for key in data if key not in PROFILE_KEYS]
    if unknown:
        problems.append(
            f"Unknown keys in the profile: {_quoted(unknown)}; a profile has: "
            f"{', '.join(PROFILE_KEYS)}."
        )
    profile_name = name if name is not None else data.get("name")
    if not isinstance(profile_name, str) or not profile_name.strip():
        problems.append("The profile needs a name.")
        profile_name = ""
    elif len(profile_name.strip()) > MAX_NAME_LENGTH:
        problems.append(f"The profile's name is longer than {MAX_NAME_LENGTH} characters.")
    elif profile_name.strip().lower() == STANDARD_NAME:
        problems.append(f'"{STANDARD_NAME}" is the name of the built-in 19-column format.')
    match = data.get("match", "email")
    if match not in MATCHES:
        problems.append(f'"match" is "{match}"; it must be email or externalData.')
    raw_fields = data.get("fields")
    rules: dict[str, Rule] = {}
    if not isinstance(raw_fields, Mapping) or not raw_fields:
        problems.append('The profile needs "fields": which column fills each field.')
        raw_fields = {}
    unknown = [key for key in raw_fields if key not in COLUMNS]
    if unknown:
        problems.append(
            f"Unknown fields: {_quoted(unknown)}. The fields are: {', '.join(COLUMNS)}."
        )
    for field_name in COLUMNS:
        if field_name in raw_fields:
            rule = _rule(field_name, raw_fields[field_name], problems)
            if rule is not None:
                rules[field_name] = rule
    unmapped = [name for name in COLUMNS if name in REQUIRED_COLUMNS and name not in raw_fields]
    if unmapped:
        problems.append(
            f"Required fields are not mapped: {', '.join(unmapped)}. Give each a column or a value."
        )
    if match == "externalData" and "externalData" not in raw_fields:
        problems.append(
            "The profile finds users by externalData (the employee id), so externalData must "
            "be mapped to a column."
        )
    if problems:
        raise ProfileError(problems)
    return Profile(name=profile_name.strip(), fields=rules, match=match)


def _rule(name: str, data: Any, problems: list[str]) -> Rule | None:
    before = len(problems)
    if isinstance(data, str):
        data = {"column": data}
    if not isinstance(data, Mapping):
        problems.append(f'{name}: write {{"column": "..."}} or {{"value": "..."}}.')
        return None
    unknown = [key for key in data if key not in RULE_KEYS]
    if unknown:
        problems.append(
            f"{name}: unknown keys {_quoted(unknown)}; a field takes: {', '.join(RULE_KEYS)}."
        )
    columns: tuple[str, ...] = ()
    value: str | None = None
    if ("column" in data) == ("value" in data):
        problems.append(f'{name}: give either "column" (a header of the file) or "value".')
    elif "column" in data:
        raw = data["column"]
        listed = raw if isinstance(raw, list) else [raw]
        if not listed or not all(isinstance(item, str) and item.strip() for item in listed):
            problems.append(f'{name}: "column" must be a header name or a list of header names.')
        else:
            columns = tuple(dict.fromkeys(item.strip() for item in listed))
    else:
        value = _text(data["value"])
        if value is None:
            problems.append(f'{name}: "value" must be text.')
        elif name == "password":
            problems.append("password: a password cannot be a fixed value in a profile.")
    mapping: dict[str, str] = {}
    raw_map = data.get("map", {})
    if not isinstance(raw_map, Mapping):
        problems.append(f'{name}: "map" must be an object of "cell": "value" pairs.')
    else:
        seen: dict[str, str] = {}
        for key, target in raw_map.items():
            text = _text(target)
            folded = str(key).strip().lower()
            if text is None:
                problems.append(f'{name}: the map\'s value for "{key}" must be text.')
            elif folded in seen:
                problems.append(
                    f'{name}: the map has "{seen[folded]}" and "{key}", the same cell in '
                    "another case."
                )
            else:
                seen[folded] = str(key)
                mapping[str(key)] = text
    default = None
    if "default" in data:
        default = _text(data["default"])
        if default is None:
            problems.append(f'{name}: "default" must be text.')
    if name == "password" and (data.get("map") or "default" in data):
        # A profile is shown on its page, exported as JSON and kept on each run: no secret in it.
        problems.append(
            'password: a password cannot be written in a profile (no "map", no "default"); '
            "map the password to a column of the file only."
        )
    transform = data.get("transform")
    if transform is not None and transform not in TRANSFORMS:
        problems.append(
            f'{name}: "transform" is "{transform}"; it must be one of {", ".join(TRANSFORMS)}.'
        )
        transform = None
    on = data.get("on")
    if on is not None:
        if on != "create":
            problems.append(f'{name}: "on" can only be "create".')
        elif name not in IGNORABLE_COLUMNS:
            problems.append(
                f'{name}: "on": "create" is only allowed on '
                f"{' and '.join(sorted(IGNORABLE_COLUMNS))}."
            )
    if len(problems) > before:
        return None
    return Rule(columns, value, mapping, default, transform, on == "create")


def _text(value: Any) -> str | None:
    """JSON text; true/false and numbers are accepted as the text they stand for."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


def _quoted(names: list[Any]) -> str:
    return ", ".join(f'"{name}"' for name in names)
