"""The company's current users, roles and access groups, as read once per run."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imports.rows import canonical_language


@dataclass(frozen=True, slots=True)
class Location:
    """The location fields SmartRecruiters takes as input (``region`` is derived by it)."""

    country_code: str | None = None
    region_code: str | None = None
    city: str | None = None
    address: str | None = None
    postal_code: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Location:
        data = data or {}
        country = data.get("countryCode") or None
        return cls(
            country.upper() if country else None,
            data.get("regionCode") or None,
            data.get("city") or None,
            data.get("address") or None,
            data.get("postalCode") or None,
        )

    def to_api(self) -> dict[str, str]:
        fields = (
            ("countryCode", self.country_code),
            ("regionCode", self.region_code),
            ("city", self.city),
            ("address", self.address),
            ("postalCode", self.postal_code),
        )
        return {name: value for name, value in fields if value is not None}


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A SmartRecruiters user. ``location`` is ``None`` when it was not read (the user list has
    none); a user read in full without a location has an empty ``Location()``."""

    id: str
    email: str
    first_name: str
    last_name: str
    system_role_id: str | None
    external_data: str | None
    language_code: str | None
    sso_identifier: str | None
    active: bool
    access_group_ids: tuple[str, ...] = ()
    location: Location | None = None
    # SmartRecruiters shows a change since the last run planned against this user, not made by
    # a write of ours (a manual edit the file may now overwrite).
    changed_outside: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, changed_outside: bool = False) -> DirectoryUser:
        """From a UserListItem or a UserEntity, as the User API returns them."""
        return cls(
            id=str(data["id"]),
            email=data.get("email") or "",
            first_name=data.get("firstName") or "",
            last_name=data.get("lastName") or "",
            system_role_id=(data.get("systemRole") or {}).get("id"),
            external_data=data.get("externalData") or None,
            language_code=canonical_language((data.get("language") or {}).get("code")),
            sso_identifier=data.get("ssoIdentifier") or None,
            active=bool(data.get("active")),
            access_group_ids=tuple(str(group["id"]) for group in data.get("accessGroups") or ()),
            location=Location.from_api(data["location"]) if "location" in data else None,
            changed_outside=changed_outside,
        )


@dataclass
class Directory:
    """A snapshot: users by lower-cased email, and the role and access-group lists
    (``{"id", "name"}`` dicts) that ``rows.RowChecker`` resolves names against."""

    users: dict[str, DirectoryUser] = field(default_factory=dict)
    roles: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    _by_external_data: dict[str, list[str]] | None = field(default=None, repr=False)

    @classmethod
    def from_api(
        cls,
        *,
        users: Iterable[Mapping[str, Any]],
        system_roles: Iterable[Mapping[str, Any]] = (),
        access_groups: Iterable[Mapping[str, Any]] = (),
        changed_outside: Collection[str] = (),
    ) -> Directory:
        """`changed_outside`: ids of users changed in SmartRecruiters since the last run."""
        by_email: dict[str, DirectoryUser] = {}
        for item in users:
            user = DirectoryUser.from_api(item, changed_outside=str(item["id"]) in changed_outside)
            by_email[user.email.lower()] = user
        return cls(
            by_email,
            [{"id": str(role["id"]), "name": role.get("name") or ""} for role in system_roles],
            [{"id": str(group["id"]), "name": group.get("name") or ""} for group in access_groups],
        )

    def with_external_data(self, key: str) -> list[DirectoryUser]:
        """The users whose externalData is ``key`` (an employee id), exactly."""
        if self._by_external_data is None:
            index: dict[str, list[str]] = {}
            for email_key, user in self.users.items():
                if user.external_data:
                    index.setdefault(user.external_data, []).append(email_key)
            self._by_external_data = index
        return [self.users[email_key] for email_key in self._by_external_data.get(key, ())]

    def find(self, email: str) -> DirectoryUser | None:
        return self.users.get(email.lower())

    def lookup(
        self, email_key: str, old_email_key: str | None
    ) -> tuple[DirectoryUser | None, bool]:
        """The user a row is about (addresses lower-cased), and whether it was found by
        ``oldEmail``.

        By ``oldEmail`` when it is set; when no user has it, by ``email`` (so a file that keeps
        its ``oldEmail`` after the change was made finds the user under the new address).
        """
        if old_email_key:
            user = self.users.get(old_email_key)
            if user is not None:
                return user, True
        return self.users.get(email_key), False

    def set_location(
        self, user: DirectoryUser, location: Mapping[str, Any] | None
    ) -> DirectoryUser:
        """Record a user's location read in full (``None``: the user has none)."""
        updated = dataclasses.replace(user, location=Location.from_api(location))
        self.users[user.email.lower()] = updated
        return updated
