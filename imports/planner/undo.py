"""Undo: plan putting back what a run applied, against the directory as it is now.

Pure, like the rest of the planner. The input is what each row of the run recorded (its user,
whether it created them, and each field's ``[old, new]``); the output is ordinary planned rows
(``update`` or ``unchanged``), applied by the same row tasks as any import. Their ``changes``
are the undo's own ``[now, back to]`` pairs, so undoing an undo redoes the run.

- A field whose current value is still what the run wrote goes back to its old value.
- A field changed since (its current value is not what the run wrote) is left alone and the row
  says so, unless ``force``.
- A user the run created is deactivated (SmartRecruiters cannot delete users); an activation or
  a deactivation is reversed. Activation emails are never sent, and no password is ever set.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from imports.planner.directory import Directory, DirectoryUser, Location
from imports.planner.planning import ReadLocation
from imports.planner.plans import Action, PlannedRow, Step, StepKind
from imports.rows import canonical_language

# The fields a PATCH puts back, in the order the planner sends them.
PATCHED = (
    "email",
    "firstName",
    "lastName",
    "systemRole",
    "externalData",
    "language",
    "ssoIdentifier",
    "location",
)
# Fields that may be emptied (`remove`); the others always hold a value.
REMOVABLE = ("externalData", "ssoIdentifier", "location")
GONE = "This user is no longer in SmartRecruiters: nothing to put back."


@dataclass(frozen=True)
class Applied:
    """What one row of the run undone did to one user, as the row recorded it."""

    line: int | None
    email: str
    first_name: str
    last_name: str
    user_id: str
    created: bool = False
    changes: Mapping[str, list[Any]] = field(default_factory=dict)
    partial: bool = False  # the row stopped part-way: `changes` holds only what it reached


def reached_changes(changes: Mapping[str, list[Any]], steps_done: int) -> dict[str, list[Any]]:
    """The changes of an update that stopped after `steps_done` of its steps.

    An update's steps follow its changes in the planner's order: one PATCH for every field it
    sends, one step to add access groups, one per group removed, then the activation or
    deactivation. So the fields its first `steps_done` steps reached are known without its plan.
    """
    steps: list[str] = []
    if any(name in PATCHED for name in changes):
        steps.append("patch")
    if "accessGroups" in changes:
        old, new = changes["accessGroups"]
        added = any(group not in old for group in new)
        steps += ["accessGroups"] * (int(added) + sum(1 for group in old if group not in new))
    if "active" in changes:
        steps.append("active")
    reached = set(steps[:steps_done])
    return {
        name: pair
        for name, pair in changes.items()
        if (name in PATCHED and "patch" in reached) or name in reached
    }


def plan_undo(
    applied: Iterable[Applied],
    directory: Directory,
    *,
    run_label: str,
    force: bool = False,
    read_location: ReadLocation | None = None,
) -> Iterator[PlannedRow]:
    """One planned row per row applied, in the same order. ``run_label`` names the run undone
    in the rows' words (e.g. ``import 12``); ``read_location(user)`` reads the current location
    of a user whose location the run changed when the snapshot does not hold it."""
    by_id = {user.id: user for user in directory.users.values()}
    for row in applied:
        user = by_id.get(row.user_id)
        if user is None:
            yield _unchanged(row, None, GONE)
        elif row.created:
            yield _undo_create(row, user, run_label)
        else:
            if "location" in row.changes and user.location is None and read_location is not None:
                user = directory.set_location(user, read_location(user))
            yield _Undo(row, user, directory, run_label=run_label, force=force).plan()


def _unchanged(row: Applied, user: DirectoryUser | None, note: str) -> PlannedRow:
    return PlannedRow(
        row.line,
        user.email if user is not None else row.email,
        user.first_name if user is not None else row.first_name,
        user.last_name if user is not None else row.last_name,
        Action.UNCHANGED,
        row.user_id,
        note=note,
    )


def _undo_create(row: Applied, user: DirectoryUser, run_label: str) -> PlannedRow:
    if not user.active:
        return _unchanged(row, user, f"Created by {run_label}, and already inactive.")
    return PlannedRow(
        row.line,
        user.email,
        user.first_name,
        user.last_name,
        Action.UPDATE,
        user.id,
        {"active": [True, False]},
        [Step(StepKind.DEACTIVATE)],
        note=f"Created by {run_label}: SmartRecruiters cannot delete users, so it is deactivated.",
    )


class _Undo:
    """The undo of one updated row."""

    def __init__(
        self,
        row: Applied,
        user: DirectoryUser,
        directory: Directory,
        *,
        run_label: str,
        force: bool,
    ) -> None:
        self.row = row
        self.user = user
        self.directory = directory
        self.run_label = run_label
        self.force = force
        self.changes: dict[str, list[Any]] = {}
        self.operations: list[dict[str, Any]] = []
        self.steps: list[Step] = []
        self.changed_since: list[str] = []  # "lastName is now "X""
        self.already: list[str] = []  # fields someone already put back
        self.refused: list[str] = []  # why a field could not go back

    def plan(self) -> PlannedRow:
        recorded = self.row.changes
        for name in PATCHED:
            if name in recorded:
                self._field(name, *recorded[name])
        if self.operations:
            self.steps.append(Step(StepKind.PATCH, self.operations))
        if "accessGroups" in recorded:
            self._groups(*recorded["accessGroups"])
        if "active" in recorded:
            self._active(*recorded["active"])
        user = self.user
        email = self.changes["email"][1] if "email" in self.changes else user.email
        first = self.changes["firstName"][1] if "firstName" in self.changes else user.first_name
        last = self.changes["lastName"][1] if "lastName" in self.changes else user.last_name
        action = Action.UPDATE if self.steps else Action.UNCHANGED
        return PlannedRow(
            self.row.line,
            email,
            first,
            last,
            action,
            user.id,
            self.changes,
            self.steps,
            note=self._note(),
        )

    def _note(self) -> str:
        words = []
        if self.changed_since:
            since = ", ".join(self.changed_since)
            if self.force:
                words.append(f"Changed since {self.run_label}: {since}; put back all the same.")
            else:
                words.append(
                    f"Changed since {self.run_label}: {since}; left as it is (an undo that "
                    "overwrites changes made since puts it back)."
                )
        if self.already:
            words.append(f"Already as before {self.run_label}: {', '.join(self.already)}.")
        words.extend(self.refused)
        if self.row.partial:
            words.append(
                f"{self.run_label.capitalize()} stopped part-way on this row: only "
                "what it reached is put back."
            )
        return " ".join(words)

    def _conflict(self, name: str, now: str) -> bool:
        """Record that `name` changed since the run; True when it is to be put back anyway."""
        self.changed_since.append(f"{name} is now {now}")
        return self.force

    def _field(self, name: str, old: Any, new: Any) -> None:
        current = _current(self.user, name)
        old = _clean(name, old)
        now, was, wrote = _key(name, current), _key(name, old), _key(name, new)
        if now == was:
            if now != wrote:
                self.already.append(name)
            return
        if now != wrote and not self._conflict(name, _words(name, current, self.directory)):
            return
        if name == "email":
            other = self.directory.find(old)
            if other is not None and other.id != self.user.id:
                self.refused.append(
                    f'The old email "{old}" now belongs to another SmartRecruiters user, so the '
                    "email stays as it is."
                )
                return
        if old is None and name not in REMOVABLE:
            return  # a field SmartRecruiters always holds cannot be emptied
        self.changes[name] = [current, old]
        path = f"/{name}"
        if old is None:
            self.operations.append({"op": "remove", "path": path})
            return
        value: Any = old
        if name == "systemRole":
            value = {"id": old}
        elif name == "language":
            value = {"code": old}
        operation = "replace" if current else "add"
        self.operations.append({"op": operation, "path": path, "value": value})

    def _groups(self, old: list[str], new: list[str]) -> None:
        current = set(self.user.access_group_ids)
        wanted = set(old)
        if current == wanted:
            if current != set(new):
                self.already.append("accessGroups")
            return
        if current != set(new) and not self._conflict(
            "accessGroups", _group_words(current, self.directory)
        ):
            return
        added = [group for group in old if group not in current]
        removed = [group for group in self.user.access_group_ids if group not in wanted]
        self.changes["accessGroups"] = [list(self.user.access_group_ids), list(old)]
        if added:
            self.steps.append(Step(StepKind.ADD_TO_GROUPS, added))
        self.steps.extend(Step(StepKind.REMOVE_FROM_GROUP, group) for group in removed)

    def _active(self, old: bool, new: bool) -> None:
        current = self.user.active
        if current == bool(old):
            if current != bool(new):
                self.already.append("active")
            return
        self.changes["active"] = [current, bool(old)]
        # An activation is never followed by the activation email: the person had their account.
        self.steps.append(Step(StepKind.ACTIVATE if old else StepKind.DEACTIVATE))


def _current(user: DirectoryUser, name: str) -> Any:
    """The user's value of a field, in the shape the run recorded it."""
    match name:
        case "email":
            return user.email
        case "firstName":
            return user.first_name
        case "lastName":
            return user.last_name
        case "systemRole":
            return user.system_role_id
        case "externalData":
            return user.external_data
        case "language":
            return user.language_code
        case "ssoIdentifier":
            return user.sso_identifier
        case "location":
            return _clean(name, user.location.to_api() if user.location is not None else None)
    raise ValueError(name)


def _clean(name: str, value: Any) -> Any:
    """A recorded value as the value to put back (None: no value)."""
    if name in ("firstName", "lastName"):
        return value or ""
    if name == "language":
        return canonical_language(value) if value else None
    if name == "location":
        return (Location.from_api(value).to_api() or None) if value else None
    return value or None


def _key(name: str, value: Any) -> Any:
    """A value as compared: emails in any case, locations field by field."""
    value = _clean(name, value)
    if name == "email" and value:
        return value.lower()
    if name == "location" and value:
        return json.dumps(value, sort_keys=True)
    return value


def _words(name: str, value: Any, directory: Directory) -> str:
    if value is None or value == "":
        return "empty"
    if name == "location":
        return ", ".join(str(value[key]) for key in ("countryCode", "city") if key in value)
    if name == "systemRole":
        names = {role["id"]: role["name"] for role in directory.roles}
        return f'"{names.get(value) or value}"'
    return f'"{value}"'


def _group_words(groups: set[str], directory: Directory) -> str:
    if not groups:
        return "no group"
    names = {group["id"]: group["name"] for group in directory.groups}
    return ", ".join(sorted(names.get(group) or group for group in groups))
