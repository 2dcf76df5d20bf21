"""Full sync: the company's active users who have no row in the file, and who is never
deactivated for it.

Pure, like the rest of the planner: computed from the directory snapshot and the file's matched
keys (every ``email`` and ``oldEmail`` of the file, lower-cased: a row matches a user by either,
so a user whose address is among them is in the file), once the file has been planned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

from imports.planner.directory import Directory, DirectoryUser
from imports.planner.plans import Action, PlannedRow, Step, StepKind

ADMINISTRATOR = "ADMINISTRATOR"

# Why an active user missing from the file was left alone (the preview's words).
CREDENTIAL_USER = "the company's SmartRecruiters credential user"
ADMIN = "administrators"
PROTECTED = "protected addresses"
NOT_MANAGED = "not managed by User2Smart"


@dataclass
class Absence:
    """Who may be deactivated for being missing, and what was left alone (filled by
    ``absent_rows``)."""

    credential_user_id: str | None = None
    admins: bool = False  # administrators may be deactivated too
    protected: frozenset[str] = frozenset()  # lower-cased emails
    managed: Collection[str] | None = None  # only these user ids (None: everyone)
    left_alone: Counter[str] = field(default_factory=Counter)

    def keeps(self, user: DirectoryUser) -> str | None:
        """Why this user is never deactivated by absence, or None."""
        if user.id == self.credential_user_id:
            return CREDENTIAL_USER
        if user.system_role_id == ADMINISTRATOR and not self.admins:
            return ADMIN
        if user.email.lower() in self.protected:
            return PROTECTED
        if self.managed is not None and user.id not in self.managed:
            return NOT_MANAGED
        return None


def absent_rows(
    directory: Directory, file_keys: Collection[str], absence: Absence
) -> Iterator[PlannedRow]:
    """A ``deactivate`` row for every active user missing from the file and not kept, by
    email; the ones kept are counted in ``absence.left_alone`` by reason."""
    for key in sorted(directory.users):
        user = directory.users[key]
        if not user.active or key in file_keys:
            continue
        reason = absence.keeps(user)
        if reason is not None:
            absence.left_alone[reason] += 1
            continue
        yield deactivation(
            email=user.email, first_name=user.first_name, last_name=user.last_name, user_id=user.id
        )


def deactivation(*, email: str, first_name: str, last_name: str, user_id: str) -> PlannedRow:
    """The plan of a person missing from the file: no line, one step."""
    return PlannedRow(
        None,
        email,
        first_name,
        last_name,
        Action.DEACTIVATE,
        user_id,
        {"active": [True, False]},
        [Step(StepKind.DEACTIVATE)],
    )
