"""The emulator's world: companies, their users, roles and groups, and how users are rendered."""

from __future__ import annotations

import bisect
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from user2smart.smartrecruiters.emulator.validation import LOCATION_FIELDS, UserFields


@dataclass(frozen=True, slots=True)
class RateLimit:
    rps: int
    concurrent: int


@dataclass(slots=True)
class Role:
    id: str
    name: str
    access_groups_allowed: bool


@dataclass(slots=True)
class User:
    id: str
    fields: UserFields
    active: bool
    updated_ms: int
    group_ids: list[str] = field(default_factory=list)

    @property
    def email(self) -> str:
        return self.fields.email

    def input_shape(self) -> dict:
        """The user as a create body would carry it: what a JSON-Patch is applied to."""
        f = self.fields
        return {
            "email": f.email,
            "firstName": f.first_name,
            "lastName": f.last_name,
            "systemRole": {"id": f.role_id},
            "externalData": f.external_data,
            "ssoIdentifier": f.sso_identifier,
            "ssoLoginMode": f.sso_login_mode,
            "language": {"code": f.language},
            "location": dict(f.location) if f.location else None,
            "seats": list(f.seats),
        }


@dataclass(slots=True)
class Company:
    id: str
    name: str
    roles: dict[str, Role]
    access_groups: dict[str, str]
    languages: list[str]
    rate_limit: RateLimit | None
    me_id: str | None = None
    users: dict[str, User] = field(default_factory=dict)
    sorted_ids: list[str] = field(default_factory=list)
    sso_index: dict[str, str] = field(default_factory=dict)

    def add_user(self, user: User) -> None:
        self.users[user.id] = user
        bisect.insort(self.sorted_ids, user.id)
        if user.fields.sso_identifier:
            self.sso_index[user.fields.sso_identifier] = user.id


def format_ms(ms: int) -> str:
    """ISO-8601 UTC with milliseconds, as SmartRecruiters writes `updatedOn`."""
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def parse_ms(text: str) -> int:
    """An ISO-8601 date-time (Z, offset or naive = UTC) as milliseconds since the epoch.

    Exact integer arithmetic, floored: stamps are whole milliseconds, so a stamp is strictly after
    `10:10:58.1009` exactly when it is after `.100`. Rounding (or float seconds) would hide the
    stamp `.101` from `updatedAfter=...58.1009Z`.
    """
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MILLISECOND


class Clock:
    """`updatedOn` stamps that always move forward, so every change is visible to updatedAfter."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def stamp(self, previous: int = 0) -> int:
        with self._lock:
            self._last = max(int(time.time() * 1000), self._last + 1, previous + 1)
            return self._last


class IdFactory:
    """24-hex ids shaped like MongoDB ObjectIds: seconds, a per-process part, a counter.

    Ids made later sort after ids made earlier, so new users land at the end of a listing.
    """

    def __init__(self) -> None:
        self._process = secrets.token_hex(5)
        self._counter = itertools.count(secrets.randbelow(1 << 20))

    def new(self) -> str:
        return f"{int(time.time()):08x}{self._process}{next(self._counter) & 0xFFFFFF:06x}"


def location_out(location: dict[str, str | None] | None) -> dict[str, str | None] | None:
    if location is None:
        return None
    out: dict[str, str | None] = {"country": None}
    out.update({name: location.get(name) for name in LOCATION_FIELDS})
    out.update(region=None, longitude=None, latitude=None)
    return out


def _common(user: User) -> dict:
    f = user.fields
    return {
        "id": user.id,
        "email": f.email,
        "firstName": f.first_name,
        "lastName": f.last_name,
        "systemRole": {"id": f.role_id},
        "externalData": f.external_data,
        "ssoIdentifier": f.sso_identifier,
        "ssoLoginMode": f.sso_login_mode,
        "language": {"code": f.language},
        "accessGroups": [{"id": gid} for gid in user.group_ids],
        "seats": list(f.seats),
        "active": user.active,
        "updatedOn": format_ms(user.updated_ms),
    }


def user_entity(user: User, company: Company) -> dict:
    """UserEntity: what create, get, me and update answer, and what the state document holds."""
    entity = _common(user)
    role = company.roles.get(user.fields.role_id)
    entity["systemRole"]["name"] = role.name if role else None
    entity["location"] = location_out(user.fields.location)
    for group in entity["accessGroups"]:
        group["name"] = company.access_groups.get(group["id"])
    return entity


def user_list_item(user: User) -> dict:
    """UserListItem: no location, systemRole and accessGroups carry only their ids."""
    return _common(user)
