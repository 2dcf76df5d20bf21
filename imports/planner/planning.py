"""Plan each checked row against the company's current users: one action, and its steps."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from imports.planner.absence import Absence, absent_rows
from imports.planner.directory import Directory, DirectoryUser, Location
from imports.planner.plans import Action, Mode, PlannedRow, Step, StepKind
from imports.rows import RejectedRow, RowError, UserRow


def needs_location(row: UserRow | RejectedRow) -> bool:
    """Whether planning this row needs the user's current location (the list has none)."""
    return isinstance(row, UserRow) and row.has_location


CHANGED_OUTSIDE = (
    "This user was changed in SmartRecruiters since the last import; the file's values replace "
    "those changes."
)

# Roles that see everything in SmartRecruiters whatever their access groups.
FULL_ACCESS_ROLES = frozenset({"EXTENDED", "ADMINISTRATOR"})

ReadLocation = Callable[[DirectoryUser], Mapping[str, Any] | None]
MATCH_EMAIL = "email"
MATCH_EXTERNAL_DATA = "externalData"


class Planner:
    """Plans the rows of one file in order; remembers what it saw to catch duplicates."""

    def __init__(
        self,
        mode: Mode | str,
        directory: Directory,
        *,
        read_location: ReadLocation | None = None,
        match: str = MATCH_EMAIL,
        repeated_ids: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        """``match``: how a row finds its user, by ``email`` (and ``oldEmail``) or by
        ``externalData`` (the employee id). ``repeated_ids``: the employee ids that more than one
        row of the file holds, with their lines (every one of those rows is an error)."""
        self.mode = Mode(mode)
        self._by_external_data = match == MATCH_EXTERNAL_DATA
        self._repeated_ids = repeated_ids or {}
        self.directory = directory
        self._read_location = read_location
        self._role_names = {role["id"]: role["name"] for role in directory.roles}
        self._group_names = {group["id"]: group["name"] for group in directory.groups}
        self._creates = self.mode is not Mode.UPDATE
        self._updates = self.mode is not Mode.CREATE
        # First line of each address (email or oldEmail, lower-cased) seen in the file. Two rows
        # about one user always share an address: the one the user was found by.
        self._lines_by_email: dict[str, int] = {}

    def _create_note(self, row: UserRow, steps: list[Step]) -> str:
        warning = _groups_warning(row.system_role_id, steps)
        return " ".join(filter(None, [self._new_user_words(row), warning]))

    def _new_user_words(self, row: UserRow) -> str:
        """`Role: Standard. Access groups: Sales, Paris.`: what a created user will get."""
        role = self._role_names.get(row.system_role_id or "") or row.system_role_id
        groups = [self._group_names.get(group) or group for group in row.access_group_ids or ()]
        return f"Role: {role}. " + (
            f"Access groups: {', '.join(groups)}." if groups else "No access group."
        )

    def remember(self, row: UserRow | RejectedRow) -> None:
        """A row planned before (its plan is stored already): only its addresses are kept, so
        later rows that share one are duplicates and a full sync knows the person is in the
        file."""
        self._duplicate(row.line, row.email, row.email.lower(), row.old_email)

    @property
    def file_keys(self) -> Collection[str]:
        """Every address (email or oldEmail, lower-cased) of the rows planned so far."""
        return self._lines_by_email.keys()

    def plan(self, row: UserRow | RejectedRow) -> PlannedRow:
        if isinstance(row, RejectedRow):
            duplicate = self._duplicate(row.line, row.email, row.email.lower(), row.old_email)
            errors = [*row.errors, duplicate] if duplicate else list(row.errors)
            return _error(row, errors)
        email_key = row.email.lower()
        duplicate = self._duplicate(row.line, row.email, email_key, row.old_email)
        if duplicate:
            return _error(row, [duplicate])
        if self._by_external_data:
            user, by_old_email, problem = self._by_employee_id(row, email_key)
            if problem is not None:
                return _error(row, [problem])
        else:
            old_key = row.old_email.lower() if row.old_email else None
            user, by_old_email = self.directory.lookup(email_key, old_key)
        if user is None:
            if not self._creates:
                return _error(row, [_not_found(row)])
            if row.errors_if_created:
                return _error(row, list(row.errors_if_created))
            steps = _create_steps(row)
            # PlannedRow's fields in order (positional: once per row of large files).
            return PlannedRow(
                row.line, row.email, row.first_name, row.last_name, Action.CREATE, None, {},
                steps, [], row.source, self._create_note(row, steps),
            )  # fmt: skip
        if not self._updates:
            return _error(row, [_already_exists(row, user, by_old_email)])
        email_changes = by_old_email and email_key != user.email.lower()
        if email_changes:
            other = self.directory.find(row.email)
            if other is not None and other.id != user.id:
                return _error(row, [_email_taken(row)])
        if row.country_code and user.location is None and self._read_location is not None:
            user = self.directory.set_location(user, self._read_location(user))
        changes, steps = _update_steps(row, user, email_changes)
        action = Action.UPDATE if steps else Action.UNCHANGED
        notes = [CHANGED_OUTSIDE] if user.changed_outside and steps else []
        role = user.system_role_id if row.ignore_role_on_update else row.system_role_id
        warning = _groups_warning(role or user.system_role_id, steps)
        note = " ".join([*notes, warning] if warning else notes)
        return PlannedRow(
            row.line, row.email, row.first_name, row.last_name, action, user.id, changes, steps,
            [], row.source, note,
        )  # fmt: skip

    def _by_employee_id(
        self, row: UserRow, email_key: str
    ) -> tuple[DirectoryUser | None, bool, RowError | None]:
        """(user, found by employee id, problem): the user whose externalData is the row's; a
        user with none yet is found by email. Found by id, a new email is an email change."""
        key = row.external_data
        if key is None:
            message = "The employee id is missing: users are found by externalData."
            return None, False, RowError(row.line, "externalData", "", message)
        lines = self._repeated_ids.get(key)
        if lines:
            message = (
                f'The employee id "{key}" is on lines {", ".join(map(str, lines))} of the file; '
                "an employee may appear only once in a file."
            )
            return None, False, RowError(row.line, "externalData", key, message)
        users = self.directory.with_external_data(key)
        if len(users) > 1:
            message = (
                f'Several SmartRecruiters users have the employee id "{key}" in externalData '
                f"({', '.join(user.email for user in users)}); fix them in SmartRecruiters."
            )
            return None, False, RowError(row.line, "externalData", key, message)
        if users:
            user = users[0]
            # Its current address belongs to this row: a full sync must not find it missing.
            self._lines_by_email.setdefault(user.email.lower(), row.line)
            return user, True, None
        user = self.directory.users.get(email_key)
        if user is not None and user.external_data and user.external_data != key:
            message = (
                f'The email "{row.email}" belongs to the SmartRecruiters user with the employee '
                f'id "{user.external_data}", not "{key}".'
            )
            return None, False, RowError(row.line, "email", row.email, message)
        return user, False, None

    def _duplicate(
        self, line: int, email: str, email_key: str, old_email: str | None
    ) -> RowError | None:
        """Remember the row's addresses; an error naming the first line if one was seen."""
        seen = self._lines_by_email
        duplicate = None
        if email_key:
            first = seen.setdefault(email_key, line)
            if first != line:
                duplicate = _duplicate_error(line, "email", email, first)
        if old_email:
            first = seen.setdefault(old_email.lower(), line)
            if first != line and duplicate is None:
                duplicate = _duplicate_error(line, "oldEmail", old_email, first)
        return duplicate


def _error(row: UserRow | RejectedRow, errors: list[RowError]) -> PlannedRow:
    return PlannedRow(
        row.line, row.email, row.first_name, row.last_name, Action.ERROR, None, {}, [], errors,
        row.source,
    )  # fmt: skip


def plan_rows(
    rows: Iterable[UserRow | RejectedRow],
    mode: Mode | str,
    directory: Directory,
    *,
    read_location: ReadLocation | None = None,
    absence: Absence | None = None,
    match: str = MATCH_EMAIL,
    repeated_ids: Mapping[str, Sequence[int]] | None = None,
    planned_before: Collection[int] = (),
) -> Iterator[PlannedRow]:
    """Plan rows one by one, streamed. ``read_location(user)`` is called (at most once per user)
    for a row that sets a location when the snapshot does not hold that user's location.

    ``planned_before``: lines whose (valid) plan is stored already (early writes); they yield
    nothing but count as rows of the file.

    With ``absence`` (full sync), the active users missing from the file follow the file's
    rows as ``deactivate`` rows without a line; a file with no valid row deactivates no one.
    """
    planner = Planner(
        mode, directory, read_location=read_location, match=match, repeated_ids=repeated_ids
    )
    valid = False
    for row in rows:
        if row.line in planned_before:
            planner.remember(row)
            valid = True
            continue
        planned = planner.plan(row)
        valid = valid or planned.action is not Action.ERROR
        yield planned
    if absence is not None and valid:
        yield from absent_rows(directory, planner.file_keys, absence)


# Creating --------------------------------------------------------------------------------------


def _row_location(row: UserRow) -> Location:
    return Location(row.country_code, row.region_code, row.city, row.address, row.postal_code)


def _create_steps(row: UserRow) -> list[Step]:
    body: dict[str, Any] = {
        "email": row.email,
        "firstName": row.first_name,
        "lastName": row.last_name,
        "systemRole": {"id": row.system_role_id},
        "language": {"code": row.language_code},
    }
    if row.external_data is not None:
        body["externalData"] = row.external_data
    if row.sso_identifier is not None:
        body["ssoIdentifier"] = row.sso_identifier
    if row.password is not None:
        body["password"] = row.password
    if row.country_code is not None:
        body["location"] = _row_location(row).to_api()
    steps = [Step(StepKind.CREATE, body)]
    if row.access_group_ids:
        steps.append(Step(StepKind.ADD_TO_GROUPS, list(row.access_group_ids)))
    # Users are created inactive. An inactive row stays so (sendEmail included: an activation
    # email would let the person activate the account the file keeps closed).
    if row.active and row.enabled:
        steps.append(Step(StepKind.ACTIVATE))
        if row.send_email:
            steps.append(Step(StepKind.ACTIVATION_EMAIL))
    elif row.active:
        steps.append(Step(StepKind.ACTIVATION_EMAIL))
    return steps


# Updating --------------------------------------------------------------------------------------


def _update_steps(
    row: UserRow, user: DirectoryUser, email_changes: bool
) -> tuple[dict[str, list[Any]], list[Step]]:
    changes: dict[str, list[Any]] = {}
    operations: list[dict[str, Any]] = []
    if email_changes:
        _change(changes, operations, "email", user.email, row.email)
    if row.first_name != user.first_name:
        _change(changes, operations, "firstName", user.first_name, row.first_name)
    if row.last_name != user.last_name:
        _change(changes, operations, "lastName", user.last_name, row.last_name)
    role = row.system_role_id
    if role is not None and role != user.system_role_id and not row.ignore_role_on_update:
        _change(changes, operations, "systemRole", user.system_role_id, role, {"id": role})
    if row.external_data is not None and row.external_data != user.external_data:
        _change(changes, operations, "externalData", user.external_data, row.external_data)
    language = row.language_code
    if language != user.language_code:
        _change(changes, operations, "language", user.language_code, language, {"code": language})
    if row.sso_identifier is not None and row.sso_identifier != user.sso_identifier:
        _change(changes, operations, "ssoIdentifier", user.sso_identifier, row.sso_identifier)
    if row.country_code is not None:
        location = _updated_location(row, user.location)
        if location is not None:
            old = user.location.to_api() if user.location is not None else None
            _change(changes, operations, "location", old, location.to_api())

    steps = [Step(StepKind.PATCH, operations)] if operations else []
    wanted = row.access_group_ids
    current = user.access_group_ids
    if wanted is not None and wanted != current and not row.ignore_groups_on_update:
        added = [group for group in wanted if group not in current]
        removed = [group for group in current if group not in wanted]
        if added or removed:
            changes["accessGroups"] = [list(current), list(wanted)]
        if added:
            steps.append(Step(StepKind.ADD_TO_GROUPS, added))
        steps.extend(Step(StepKind.REMOVE_FROM_GROUP, group) for group in removed)

    if not row.active:
        if user.active:
            changes["active"] = [True, False]
            steps.append(Step(StepKind.DEACTIVATE))
    elif not user.active:
        if row.enabled:
            changes["active"] = [False, True]
            steps.append(Step(StepKind.ACTIVATE))
        else:
            # Enabling is the person's own act: the activation email lets them do it.
            steps.append(Step(StepKind.ACTIVATION_EMAIL))
    return changes, steps


def _change(
    changes: dict[str, list[Any]],
    operations: list[dict[str, Any]],
    name: str,
    old: Any,
    new: Any,
    value: Any = None,
) -> None:
    """Record ``name`` going from ``old`` to ``new``: ``add`` when there was no value (RFC 6902
    ``replace`` needs an existing member), else ``replace``."""
    changes[name] = [old, new]
    operation = "replace" if old else "add"
    operations.append(
        {"op": operation, "path": f"/{name}", "value": new if value is None else value}
    )


def _updated_location(row: UserRow, current: Location | None) -> Location | None:
    """The location to send, or ``None`` when the current one already matches the row.

    Where country and city stay the same, empty optional cells keep the current region code,
    address and postal code; a move (another country or city) replaces the whole location.
    """
    if current is None or current.country_code != row.country_code or current.city != row.city:
        return _row_location(row)
    if (
        row.region_code in (None, current.region_code)
        and row.address in (None, current.address)
        and row.postal_code in (None, current.postal_code)
    ):
        return None
    return Location(
        row.country_code,
        row.region_code or current.region_code,
        row.city,
        row.address or current.address,
        row.postal_code or current.postal_code,
    )


# Messages --------------------------------------------------------------------------------------


def _groups_warning(role: str | None, steps: list[Step]) -> str:
    """A warning for a row that adds access groups to a user whose role sees everything."""
    if role not in FULL_ACCESS_ROLES or not any(s.kind is StepKind.ADD_TO_GROUPS for s in steps):
        return ""
    return (
        f"Warning: users with the role {role} see everything in SmartRecruiters whatever their "
        "access groups, so the groups given here restrict nothing."
    )


def _duplicate_error(line: int, column: str, value: str, first: int) -> RowError:
    return RowError(
        line,
        column,
        value,
        f"This user already appears on line {first} of the file; a user may appear only once "
        "in a file.",
    )


def _not_found(row: UserRow) -> RowError:
    if row.old_email:
        return RowError(
            row.line,
            "oldEmail",
            row.old_email,
            f'No SmartRecruiters user has the old email "{row.old_email}" (or the email '
            f'"{row.email}"). Use the mode Create or update to create the user.',
        )
    return RowError(
        row.line,
        "email",
        row.email,
        f'No SmartRecruiters user has the email "{row.email}". Use the mode Create or update to '
        "create the user.",
    )


def _already_exists(row: UserRow, user: DirectoryUser, by_old_email: bool) -> RowError:
    column = "oldEmail" if by_old_email else "email"
    value = row.old_email if by_old_email and row.old_email else row.email
    return RowError(
        row.line,
        column,
        value,
        f'A SmartRecruiters user with the email "{user.email}" already exists. Use the mode '
        "Update or Create or update to change it.",
    )


def _email_taken(row: UserRow) -> RowError:
    return RowError(
        row.line,
        "email",
        row.email,
        f'The new email "{row.email}" already belongs to another SmartRecruiters user.',
    )
