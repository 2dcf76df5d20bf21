"""The emulator's state and every change the User API makes to it, behind one lock.

Each public method is one API operation for one company: it finds, checks and changes under the
lock, then answers with plain dicts in the API's shapes. Refusals raise `ApiError`.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from user2smart.smartrecruiters.emulator.model import (
    Clock,
    Company,
    IdFactory,
    RateLimit,
    User,
    user_entity,
    user_list_item,
)
from user2smart.smartrecruiters.emulator.patch import apply_patch
from user2smart.smartrecruiters.emulator.responses import ApiError, user_not_found
from user2smart.smartrecruiters.emulator.validation import UserFields, check_user_fields
from user2smart.smartrecruiters.emulator.world import (
    OAuthClient,
    World,
    dump_document,
    parse_document,
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a call acts as: a company, the user the credential stands for, the credential label."""

    company_id: str
    user_id: str | None
    label: str


@dataclass(frozen=True, slots=True)
class Page:
    q: str | None = None
    limit: int = 100
    page_id: str | None = None
    updated_after_ms: int | None = None


# The kinds of change whose `updatedOn` stamp can be frozen with `POST /_emulator/updated-on`.
UPDATED_ON_KINDS = ("profile", "location", "activation", "groups")


def parse_frozen(document: object) -> frozenset[str]:
    """The kinds named by `{"frozen": [...]}`; raises ValueError naming what is wrong."""
    if not isinstance(document, Mapping):
        raise ValueError('The document must be a JSON object: {"frozen": [kinds of change]}.')
    unknown_keys = sorted(set(document) - {"frozen"})
    if unknown_keys:
        raise ValueError(f"Unknown keys {unknown_keys}; known: ['frozen'].")
    kinds = document.get("frozen")
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        raise ValueError('"frozen" must be a list of kinds of change.')
    unknown = sorted(set(kinds) - set(UPDATED_ON_KINDS))
    if unknown:
        raise ValueError(f"Unknown kinds of change {unknown}; known: {list(UPDATED_ON_KINDS)}.")
    return frozenset(kinds)


def patch_kinds(old: UserFields, new: UserFields) -> tuple[str, ...]:
    """What a PATCH changed: `location`, `profile` (anything else), both, or nothing.

    Decided on the fields before and after, not on the paths the operations name, so that
    replacing the city with the same city is no location change.
    """
    kinds = ("location",) if new.location != old.location else ()
    if replace(new, location=old.location) != old:
        kinds += ("profile",)
    return kinds


def _already_exists() -> ApiError:
    return ApiError(409, "USER_ALREADY_EXISTS", "User already exists.")


def _matches(user: User, needle: str) -> bool:
    f = user.fields
    haystack = f"{f.first_name} {f.last_name}\n{f.email}\n{f.external_data or ''}"
    return needle in haystack.lower()


class Store:
    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self.lock = threading.Lock()
        self.clock = Clock()
        self.ids = IdFactory()
        self.world = World()
        # Kinds of change that leave `updatedOn` alone, as SmartRecruiters might: lets tests show
        # what a client that trusts `updatedOn` misses, and what its full re-read repairs.
        self.frozen: frozenset[str] = frozenset()
        self._on_change = on_change or (lambda: None)

    def set_on_change(self, callback: Callable[[], None]) -> None:
        self._on_change = callback

    # -- the whole document ------------------------------------------------------------------

    def reset(self, document: object) -> None:
        """Replace everything with `document` and unfreeze `updatedOn` (raises ValueError,
        leaving the state as it was)."""
        world = parse_document(document, self.ids, self.clock)
        with self.lock:
            self.world = world
            self.frozen = frozenset()
        self._on_change()

    def document(self) -> dict:
        with self.lock:
            return dump_document(self.world)

    # -- updatedOn ---------------------------------------------------------------------------

    def freeze_updated_on(self, kinds: frozenset[str]) -> dict:
        """From now on, changes of these kinds (only) happen without moving `updatedOn`."""
        with self.lock:
            self.frozen = kinds
            return self._updated_on_document()

    def updated_on_document(self) -> dict:
        with self.lock:
            return self._updated_on_document()

    def _updated_on_document(self) -> dict:
        return {"frozen": [kind for kind in UPDATED_ON_KINDS if kind in self.frozen]}

    # -- credentials -------------------------------------------------------------------------

    def api_key_principal(self, key: str) -> Principal | None:
        with self.lock:
            found = self.world.api_keys.get(key)
            if found is None:
                return None
            company_id, label = found
            return Principal(company_id, self.world.companies[company_id].me_id, label)

    def revoke(self, *, api_key: str | None = None, client_id: str | None = None) -> bool:
        """Withdraw an API key or an OAuth client, as an admin does in SmartRecruiters: calls
        with it answer 401 from now on. False when there was no such credential."""
        with self.lock:
            if api_key is not None:
                revoked = self.world.api_keys.pop(api_key, None) is not None
            else:
                revoked = self.world.clients.pop(client_id or "", None) is not None
        if revoked:
            self._on_change()
        return revoked

    def client(self, client_id: str) -> OAuthClient | None:
        with self.lock:
            return self.world.clients.get(client_id)

    def company_principal(self, client: OAuthClient) -> Principal:
        with self.lock:
            company = self.world.companies[client.company_id or ""]
            return Principal(company.id, company.me_id, f"{company.id}/{client.client_id}")

    def person_principal(self, user_id: str, app: OAuthClient) -> Principal | None:
        """An active user of any company signing in to `app` on the allow page."""
        with self.lock:
            company_id = self.world.user_company.get(user_id)
            if company_id is None:
                return None
            if not self.world.companies[company_id].users[user_id].active:
                return None
            return Principal(company_id, user_id, f"{company_id}/{app.client_id}")

    def people(self) -> list[tuple[str, str]]:
        """(user id, label) of every active user, for the sign-in page."""
        with self.lock:
            return [
                (
                    user.id,
                    f"{user.fields.first_name} {user.fields.last_name} <{user.email}>"
                    f" - {company.name}",
                )
                for company in self.world.companies.values()
                for user in company.users.values()
                if user.active
            ]

    def token_ttl_seconds(self) -> int:
        return self.world.token_ttl_seconds

    def rate_limit(self, company_id: str) -> RateLimit | None:
        with self.lock:
            company = self.world.companies.get(company_id)
            return company.rate_limit if company else None

    # -- the User API ------------------------------------------------------------------------

    def _company(self, company_id: str) -> Company:
        company = self.world.companies.get(company_id)
        if company is None:  # the company went away in a reset while the call was on its way
            raise ApiError(401, "UNAUTHORIZED", "The credential is not valid.")
        return company

    def _user(self, company: Company, user_id: str | None) -> User:
        user = company.users.get(user_id or "")
        if user is None:
            raise user_not_found()
        return user

    def _changed(self, user: User, *kinds: str) -> None:
        """Called under the lock after `user` changed in these ways (at least one): `updatedOn`
        moves unless every one of them is frozen; the state file is rewritten either way."""
        if not self.frozen.issuperset(kinds):
            user.updated_ms = self.clock.stamp(user.updated_ms)
        self._on_change()

    def list_users(self, company_id: str, page: Page) -> dict:
        """A page in id order; the cursor is the last id of the page, so it survives creates."""
        needle = page.q.lower() if page.q else None
        with self.lock:
            company = self._company(company_id)
            ids = company.sorted_ids
            start = bisect.bisect_right(ids, page.page_id) if page.page_id else 0
            content: list[dict] = []
            next_page_id = None
            for index in range(start, len(ids)):
                user = company.users[ids[index]]
                if page.updated_after_ms is not None and user.updated_ms <= page.updated_after_ms:
                    continue
                if needle and not _matches(user, needle):
                    continue
                if len(content) == page.limit:
                    next_page_id = content[-1]["id"]
                    break
                content.append(user_list_item(user))
        document: dict = {"limit": page.limit, "content": content}
        if next_page_id:
            document["nextPageId"] = next_page_id
        return document

    def get_user(self, company_id: str, user_id: str | None) -> dict:
        with self.lock:
            company = self._company(company_id)
            return user_entity(self._user(company, user_id), company)

    def create_user(self, company_id: str, body: object) -> dict:
        with self.lock:
            company = self._company(company_id)
            fields = check_user_fields(body, roles=company.roles, languages=company.languages)
            if fields.email.lower() in self.world.emails:
                raise _already_exists()
            if fields.sso_identifier in company.sso_index:
                raise ApiError(
                    409, "SSO_IDENTIFIER_ALREADY_EXISTS", "ssoIdentifier is already in use."
                )
            user_id = self.ids.new()
            while user_id in self.world.user_company:
                user_id = self.ids.new()
            user = User(user_id, fields, active=False, updated_ms=self.clock.stamp())
            company.add_user(user)
            self.world.user_company[user_id] = company_id
            self.world.emails[fields.email.lower()] = (company_id, user_id)
            self._on_change()
            return user_entity(user, company)

    def patch_user(self, company_id: str, user_id: str, operations: object) -> dict:
        with self.lock:
            company = self._company(company_id)
            user = self._user(company, user_id)
            draft = apply_patch(user.input_shape(), operations)
            fields = check_user_fields(draft, roles=company.roles, languages=company.languages)
            old = user.fields
            if fields != old:
                new_email, old_email = fields.email.lower(), old.email.lower()
                if new_email != old_email and new_email in self.world.emails:
                    raise _already_exists()
                new_sso = fields.sso_identifier
                if new_sso and company.sso_index.get(new_sso, user.id) != user.id:
                    raise ApiError(
                        409, "SSO_IDENTIFIER_ALREADY_EXISTS", "ssoIdentifier is already in use."
                    )
                self.world.emails.pop(old_email, None)
                self.world.emails[new_email] = (company_id, user.id)
                company.sso_index.pop(old.sso_identifier or "", None)
                if new_sso:
                    company.sso_index[new_sso] = user.id
                user.fields = fields
                self._changed(user, *patch_kinds(old, fields))
            return user_entity(user, company)

    def set_active(self, company_id: str, user_id: str, active: bool) -> None:
        """Activate or deactivate; a user already in that state is left alone (a no-op)."""
        with self.lock:
            user = self._user(self._company(company_id), user_id)
            if user.active != active:
                user.active = active
                self._changed(user, "activation")

    def user_email(self, company_id: str, user_id: str) -> str:
        with self.lock:
            return self._user(self._company(company_id), user_id).email

    def system_roles(self, company_id: str) -> dict:
        with self.lock:
            roles = self._company(company_id).roles.values()
            return {"content": [{"id": role.id, "name": role.name} for role in roles]}

    def access_groups(self, company_id: str) -> dict:
        with self.lock:
            groups = self._company(company_id).access_groups.items()
            return {"content": [{"id": gid, "name": name} for gid, name in groups]}

    def _group(self, company: Company, group_id: str) -> str:
        if group_id not in company.access_groups:
            raise ApiError(404, "ACCESS_GROUP_NOT_FOUND", "Access group not found.")
        return company.access_groups[group_id]

    def assign_to_group(self, company_id: str, group_id: str, user_ids: object) -> dict:
        """All or nothing: every user must exist and have a role that may join access groups."""
        if not isinstance(user_ids, list) or not all(isinstance(i, str) for i in user_ids):
            raise ApiError(400, "INVALID_BODY", "The body must be a JSON array of user ids.")
        with self.lock:
            company = self._company(company_id)
            name = self._group(company, group_id)
            users = [self._user(company, user_id) for user_id in user_ids]
            for user in users:
                role = company.roles.get(user.fields.role_id)
                if role is not None and not role.access_groups_allowed:
                    raise ApiError(
                        400,
                        "ACCESS_GROUPS_NOT_ALLOWED",
                        f"Users with the system role {role.name} cannot be in access groups.",
                    )
            for user in users:
                if group_id not in user.group_ids:
                    user.group_ids.append(group_id)
                    self._changed(user, "groups")
            return {"content": [{"id": group_id, "name": name}]}

    def remove_from_group(self, company_id: str, group_id: str, user_id: str) -> None:
        with self.lock:
            company = self._company(company_id)
            self._group(company, group_id)
            user = self._user(company, user_id)
            if group_id in user.group_ids:
                user.group_ids.remove(group_id)
                self._changed(user, "groups")
