"""What a plan is made of: the mode, each row's action and its steps, as plain JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from imports.csvfile import COLUMNS
from imports.rows import RowError


class Mode(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UPSERT = "upsert"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    ERROR = "error"
    DEACTIVATE = "deactivate"  # an active user missing from the file (full sync)


class StepKind(StrEnum):
    CREATE = "create"
    PATCH = "patch"
    ADD_TO_GROUPS = "add_to_groups"
    REMOVE_FROM_GROUP = "remove_from_group"
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    ACTIVATION_EMAIL = "activation_email"


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    data: Any = None

    def __repr__(self) -> str:
        data = self.data
        if isinstance(data, dict) and "password" in data:
            data = {**data, "password": "***"}
        return f"Step({self.kind.value!r}, {data!r})"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "data": self.data}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        return cls(StepKind(data["kind"]), data.get("data"))


@dataclass(slots=True)
class PlannedRow:
    """One row's decision. ``changes`` maps a field to ``[old, new]`` (never the password).

    ``source`` is the row as the file has it (its own columns in its order, password blank),
    for the failed-rows file.
    """

    line: int | None  # None: a user missing from the file
    email: str
    first_name: str
    last_name: str
    action: Action
    user_id: str | None = None
    changes: dict[str, list[Any]] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    source: list[str] = field(default_factory=list, repr=False)
    note: str = ""  # said after the plan's words (e.g. the user was changed outside User2Smart)

    @property
    def message(self) -> str:
        """The errors, or what the plan will do, in sentences."""
        if self.errors:
            return " ".join(error.message for error in self.errors)
        return _describe(self) + (f" {self.note}" if self.note else "")

    def redacted(self) -> PlannedRow:
        """A copy without the password (to show, log or keep after the row is done)."""
        steps = [
            Step(step.kind, {k: v for k, v in step.data.items() if k != "password"})
            if step.kind is StepKind.CREATE
            else step
            for step in self.steps
        ]
        return dataclasses.replace(self, steps=steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "action": self.action.value,
            "userId": self.user_id,
            "changes": self.changes,
            "steps": [step.to_json() for step in self.steps],
            "errors": [error.to_json() for error in self.errors],
            "source": list(self.source),
            **({"note": self.note} if self.note else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PlannedRow:
        return cls(
            line=data["line"],
            email=data["email"],
            first_name=data["firstName"],
            last_name=data["lastName"],
            action=Action(data["action"]),
            user_id=data.get("userId"),
            changes={name: list(pair) for name, pair in data.get("changes", {}).items()},
            steps=[Step.from_json(step) for step in data.get("steps", [])],
            errors=[RowError.from_json(error) for error in data.get("errors", [])],
            source=_source(data.get("source")),
            note=data.get("note", ""),
        )


def _source(data: Any) -> list[str]:
    """A row's cells; a plan stored as ``{column: value}`` gives its 19 values in order."""
    if isinstance(data, Mapping):
        return [data.get(name, "") for name in COLUMNS]
    return list(data or [])


_STEP_WORDS = {
    StepKind.ADD_TO_GROUPS: "add to access groups",
    StepKind.REMOVE_FROM_GROUP: "remove from access groups",
    StepKind.ACTIVATE: "activate",
    StepKind.DEACTIVATE: "deactivate",
    StepKind.ACTIVATION_EMAIL: "send the activation email",
}


def _describe(planned: PlannedRow) -> str:
    if planned.action is Action.DEACTIVATE:
        return "Not in the file: deactivate."
    if planned.action is Action.UNCHANGED:
        return "Already up to date: nothing to send."
    words: list[str] = []
    for step in planned.steps:
        if step.kind is StepKind.CREATE:
            words.append("create the user")
        elif step.kind is StepKind.PATCH:
            fields = [name for name in planned.changes if name not in ("accessGroups", "active")]
            words.append(f"update {', '.join(fields)}")
        elif _STEP_WORDS[step.kind] not in words:
            words.append(_STEP_WORDS[step.kind])
    text = ", then ".join(words)
    return text[:1].upper() + text[1:] + "."
