"""A checked row, a rejected row, and one problem of a row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
    ``source`` is the row as the file has it (its own columns in its order, untrimmed, password
    blank), for the failed-rows file.
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
    old_email: str = ""
