"""The User API endpoints (`/user-api/v201804/...`): routing, request parsing, answers.

Authentication, limits and faults happen before a handler runs (see server.py); a handler turns
one call into one Store operation and one Response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from user2smart.smartrecruiters.emulator.faults import drop_create_fields
from user2smart.smartrecruiters.emulator.model import parse_ms
from user2smart.smartrecruiters.emulator.responses import (
    ApiError,
    Response,
    empty_response,
    json_response,
)
from user2smart.smartrecruiters.emulator.stats import Stats
from user2smart.smartrecruiters.emulator.store import Page, Principal, Store

API_PREFIX = "/user-api/v201804"
MAX_LIMIT = 100
JSON_PATCH = "application/json-patch+json"


@dataclass(frozen=True, slots=True)
class Call:
    store: Store
    stats: Stats
    principal: Principal
    params: dict[str, str]
    query: str
    content_type: str
    body: bytes
    create_response_quirk: bool = False

    @property
    def company_id(self) -> str:
        return self.principal.company_id


Handler = Callable[[Call], Response]


def _json_body(call: Call, media_type: str = "application/json") -> object:
    if call.content_type.split(";")[0].strip().lower() != media_type:
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"Content-Type must be {media_type}.")
    try:
        return json.loads(call.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "INVALID_JSON", "The body is not valid JSON.") from None


def _invalid_parameter(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER", message)


def _page(query: str) -> Page:
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    limit = MAX_LIMIT
    if "limit" in params:
        try:
            limit = int(params["limit"])
        except ValueError:
            raise _invalid_parameter("limit must be a whole number.") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise _invalid_parameter(f"limit must be between 1 and {MAX_LIMIT}.")
    updated_after = None
    if params.get("updatedAfter"):
        try:
            updated_after = parse_ms(params["updatedAfter"])
        except ValueError:
            raise _invalid_parameter("updatedAfter must be an ISO-8601 date-time.") from None
    return Page(
        q=params.get("q") or None,
        limit=limit,
        page_id=params.get("pageId") or None,
        updated_after_ms=updated_after,
    )


def list_users(call: Call) -> Response:
    return json_response(200, call.store.list_users(call.company_id, _page(call.query)))


def create_email(body: bytes) -> str | None:
    """The email a `POST /users` body asks for, as sent, or None when it names none."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    email = document.get("email") if isinstance(document, dict) else None
    return email if isinstance(email, str) and email else None


def create_user(call: Call) -> Response:
    document = _json_body(call)
    try:
        entity = call.store.create_user(call.company_id, document)
    except ApiError as exc:
        if exc.status == 409:  # the store checked the body first: its email is a string
            call.stats.event("create_conflicts_by_email", document["email"])
        raise
    call.stats.event("creates_by_email", entity["email"])
    if call.create_response_quirk:
        entity = drop_create_fields(entity)
    return json_response(201, entity)


def get_me(call: Call) -> Response:
    return json_response(200, call.store.get_user(call.company_id, call.principal.user_id))


def get_user(call: Call) -> Response:
    return json_response(200, call.store.get_user(call.company_id, call.params["id"]))


def patch_user(call: Call) -> Response:
    operations = _json_body(call, JSON_PATCH)
    return json_response(200, call.store.patch_user(call.company_id, call.params["id"], operations))


def activate(call: Call) -> Response:
    call.store.set_active(call.company_id, call.params["id"], True)
    return empty_response()


def deactivate(call: Call) -> Response:
    call.store.set_active(call.company_id, call.params["id"], False)
    return empty_response()


def activation_email(call: Call) -> Response:
    user_id = call.params["id"]
    call.stats.activation_email(user_id, call.store.user_email(call.company_id, user_id))
    return empty_response()


def reset_password(call: Call) -> Response:
    call.stats.event("password_resets", call.store.user_email(call.company_id, call.params["id"]))
    return empty_response()


def update_avatar(call: Call) -> Response:
    call.store.user_email(call.company_id, call.params["id"])  # 404 for an unknown user
    return empty_response()


def system_roles(call: Call) -> Response:
    return json_response(200, call.store.system_roles(call.company_id))


def access_groups(call: Call) -> Response:
    return json_response(200, call.store.access_groups(call.company_id))


def assign_to_group(call: Call) -> Response:
    answer = call.store.assign_to_group(call.company_id, call.params["id"], _json_body(call))
    return json_response(201, answer)


def remove_from_group(call: Call) -> Response:
    call.store.remove_from_group(call.company_id, call.params["id"], call.params["userId"])
    return empty_response()


ROUTES: list[tuple[str, dict[str, Handler]]] = [
    ("/users", {"GET": list_users, "POST": create_user}),
    ("/users/me", {"GET": get_me}),
    ("/users/{id}", {"GET": get_user, "PATCH": patch_user}),
    ("/users/{id}/activation", {"PUT": activate, "DELETE": deactivate}),
    ("/users/{id}/activation-email", {"POST": activation_email}),
    ("/users/{id}/reset-password", {"POST": reset_password}),
    ("/users/{id}/avatar", {"PUT": update_avatar}),
    ("/system-roles", {"GET": system_roles}),
    ("/access-groups", {"GET": access_groups}),
    ("/access-groups/{id}/users", {"POST": assign_to_group}),
    ("/access-groups/{id}/users/{userId}", {"DELETE": remove_from_group}),
]
_COMPILED = [
    (re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "$"), template, methods)
    for template, methods in ROUTES
]


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # "<METHOD> <template>", the stats key
    handler: Handler | None  # None: the path exists, the method does not (405)
    params: dict[str, str]
    allowed: tuple[str, ...] = ()


def match(method: str, path: str) -> Match | None:
    """The route for a path below API_PREFIX, or None for an unknown path."""
    for pattern, template, methods in _COMPILED:
        found = pattern.match(path)
        if found:
            key = f"{method} {template}"
            params = {name: unquote(value) for name, value in found.groupdict().items()}
            return Match(key, methods.get(method), params, tuple(methods))
    return None
