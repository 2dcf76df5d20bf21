"""The reset document <-> the emulator's world.

`POST /_emulator/reset`, the `--state` file and the `--seed` file all hold the same document;
`GET /_emulator/state` and the state file give it back as it is now. A malformed document raises
`ValueError` naming the part that is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from user2smart.smartrecruiters.emulator.model import (
    Clock,
    Company,
    IdFactory,
    RateLimit,
    Role,
    User,
    parse_ms,
    user_entity,
)
from user2smart.smartrecruiters.emulator.responses import ApiError
from user2smart.smartrecruiters.emulator.validation import (
    BUILTIN_ROLES,
    LANGUAGES,
    check_user_fields,
)

DEFAULT_RATE_LIMIT = RateLimit(rps=10, concurrent=8)
DEFAULT_TOKEN_TTL_SECONDS = 1800


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    client_secret: str
    company_id: str | None  # None for an oauth_app that people of any company may authorize
    redirect_uris: tuple[str, ...] = ()

    @property
    def is_app(self) -> bool:
        return self.company_id is None


@dataclass
class World:
    companies: dict[str, Company] = field(default_factory=dict)
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    api_keys: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (company, label)
    emails: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower -> (company, user)
    user_company: dict[str, str] = field(default_factory=dict)  # user id -> company id


def _list(value: object, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list.")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where} must be a non-empty string.")
    return value


def _positive_int(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where} must be a whole number of at least 1.")
    return value


def _rate_limit(doc: Mapping, where: str) -> RateLimit | None:
    if "rate_limit" not in doc:
        return DEFAULT_RATE_LIMIT
    value = doc["rate_limit"]
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}.rate_limit must be an object or null.")
    return RateLimit(
        rps=_positive_int(value.get("rps", DEFAULT_RATE_LIMIT.rps), f"{where}.rate_limit.rps"),
        concurrent=_positive_int(
            value.get("concurrent", DEFAULT_RATE_LIMIT.concurrent),
            f"{where}.rate_limit.concurrent",
        ),
    )


def _roles(values: list, where: str) -> dict[str, Role]:
    roles = {rid: Role(rid, name, rid != "EMPLOYEE") for rid, name in BUILTIN_ROLES}
    for n, item in enumerate(values):
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}.roles[{n}] must be an object.")
        rid = _text(item.get("id"), f"{where}.roles[{n}].id")
        allowed = item.get("access_groups_allowed", rid != "EMPLOYEE")
        if not isinstance(allowed, bool):
            raise ValueError(f"{where}.roles[{n}].access_groups_allowed must be true or false.")
        roles[rid] = Role(rid, str(item.get("name") or rid), allowed)
    return roles


def _languages(doc: Mapping, where: str) -> list[str]:
    if doc.get("languages") is None:
        return list(LANGUAGES)
    languages = _list(doc["languages"], f"{where}.languages")
    unknown = [code for code in languages if code not in LANGUAGES]
    if unknown or not languages:
        raise ValueError(f"{where}.languages must be SmartRecruiters language codes: {unknown}.")
    return list(languages)


def _seed_user(item: object, company: Company, where: str, ids: IdFactory, clock: Clock) -> User:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} must be an object.")
    try:
        fields = check_user_fields(item, roles=company.roles, languages=company.languages)
    except ApiError as exc:
        raise ValueError(f"{where}: {exc.message}") from None
    groups = []
    for group in _list(item.get("accessGroups"), f"{where}.accessGroups"):
        gid = group.get("id") if isinstance(group, Mapping) else group
        if gid not in company.access_groups:
            raise ValueError(f"{where}: access group {gid!r} is not one of the company's.")
        groups.append(gid)
    active = item.get("active", False)
    if not isinstance(active, bool):
        raise ValueError(f"{where}.active must be true or false.")
    try:
        updated = parse_ms(item["updatedOn"]) if item.get("updatedOn") else clock.stamp()
    except (TypeError, ValueError):
        raise ValueError(f"{where}.updatedOn must be an ISO-8601 date-time.") from None
    user = User(_text(item.get("id") or ids.new(), f"{where}.id"), fields, active, updated, groups)
    if "/" in user.id:
        raise ValueError(f"{where}.id must not contain '/'.")
    return user


def _company(doc: object, n: int, world: World, ids: IdFactory, clock: Clock) -> Company:
    where = f"companies[{n}]"
    if not isinstance(doc, Mapping):
        raise ValueError(f"{where} must be an object.")
    cid = _text(doc.get("id"), f"{where}.id")
    if cid in world.companies or "/" in cid:
        raise ValueError(f"{where}.id {cid!r} is repeated or contains '/'.")
    company = Company(
        id=cid,
        name=str(doc.get("name") or cid),
        roles=_roles(_list(doc.get("roles"), where), where),
        access_groups={},
        languages=_languages(doc, where),
        rate_limit=_rate_limit(doc, where),
    )
    for m, item in enumerate(_list(doc.get("api_keys"), f"{where}.api_keys")):
        key = _text(item, f"{where}.api_keys[{m}]")
        if key in world.api_keys:
            raise ValueError(f"{where}.api_keys[{m}] is already another credential's key.")
        world.api_keys[key] = (cid, f"{cid}/apikey-{m + 1}")
    for m, item in enumerate(_list(doc.get("oauth_clients"), f"{where}.oauth_clients")):
        _client(item, f"{where}.oauth_clients[{m}]", world, company_id=cid)
    for m, group in enumerate(_list(doc.get("access_groups"), f"{where}.access_groups")):
        if not isinstance(group, Mapping):
            raise ValueError(f"{where}.access_groups[{m}] must be an object.")
        gid = _text(group.get("id"), f"{where}.access_groups[{m}].id")
        company.access_groups[gid] = str(group.get("name") or gid)
    for m, item in enumerate(_list(doc.get("users"), f"{where}.users")):
        user = _seed_user(item, company, f"{where}.users[{m}]", ids, clock)
        if user.id in world.user_company:
            raise ValueError(f"{where}.users[{m}]: id {user.id!r} is already another user's.")
        if user.email.lower() in world.emails:
            raise ValueError(f"{where}.users[{m}]: email {user.email!r} is already taken.")
        if user.fields.sso_identifier in company.sso_index:
            raise ValueError(f"{where}.users[{m}]: ssoIdentifier is already taken.")
        company.add_user(user)
        world.user_company[user.id] = cid
        world.emails[user.email.lower()] = (cid, user.id)
    company.me_id = _me(doc.get("me"), company, where)
    return company


def _me(email: object, company: Company, where: str) -> str | None:
    users = list(company.users.values())
    if email is None:
        candidates = [user for user in users if user.fields.role_id == "ADMINISTRATOR"] or users
        return candidates[0].id if candidates else None
    if not isinstance(email, str):
        raise ValueError(f"{where}.me must be an email.")
    for user in users:
        if user.email.lower() == email.lower():
            return user.id
    raise ValueError(f"{where}.me {email!r} is not one of the company's users.")


def _client(item: object, where: str, world: World, company_id: str | None) -> OAuthClient:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where} must be an object.")
    client_id = _text(item.get("client_id"), f"{where}.client_id")
    if client_id in world.clients or "/" in client_id:
        raise ValueError(f"{where}.client_id {client_id!r} is repeated or contains '/'.")
    uris = tuple(_list(item.get("redirect_uris"), f"{where}.redirect_uris"))
    client = OAuthClient(
        client_id, _text(item.get("client_secret"), f"{where}.client_secret"), company_id, uris
    )
    world.clients[client_id] = client
    return client


def parse_document(doc: object, ids: IdFactory, clock: Clock) -> World:
    if not isinstance(doc, Mapping):
        raise ValueError("The document must be a JSON object.")
    world = World()
    ttl = doc.get("token_ttl_seconds", DEFAULT_TOKEN_TTL_SECONDS)
    world.token_ttl_seconds = _positive_int(ttl, "token_ttl_seconds")
    for n, item in enumerate(_list(doc.get("companies"), "companies")):
        company = _company(item, n, world, ids, clock)
        world.companies[company.id] = company
    for n, item in enumerate(_list(doc.get("oauth_apps"), "oauth_apps")):
        _client(item, f"oauth_apps[{n}]", world, company_id=None)
    return world


def dump_document(world: World) -> dict:
    """The reset document as the world is now (users in full UserEntity shape)."""
    companies = []
    for company in world.companies.values():
        me = company.users.get(company.me_id or "")
        limit = company.rate_limit
        companies.append(
            {
                "id": company.id,
                "name": company.name,
                "api_keys": [k for k, (cid, _) in world.api_keys.items() if cid == company.id],
                "oauth_clients": [
                    {"client_id": c.client_id, "client_secret": c.client_secret}
                    for c in world.clients.values()
                    if c.company_id == company.id
                ],
                "me": me.email if me else None,
                "roles": [
                    {"id": r.id, "name": r.name, "access_groups_allowed": r.access_groups_allowed}
                    for r in company.roles.values()
                ],
                "access_groups": [
                    {"id": gid, "name": name} for gid, name in company.access_groups.items()
                ],
                "users": [user_entity(user, company) for user in company.users.values()],
                "languages": list(company.languages),
                "rate_limit": (
                    {"rps": limit.rps, "concurrent": limit.concurrent} if limit else None
                ),
            }
        )
    apps = [
        {
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            **({"redirect_uris": list(c.redirect_uris)} if c.redirect_uris else {}),
        }
        for c in world.clients.values()
        if c.is_app
    ]
    return {
        "companies": companies,
        "oauth_apps": apps,
        "token_ttl_seconds": world.token_ttl_seconds,
    }
