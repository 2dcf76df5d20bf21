"""RFC 6902 JSON-Patch over a user, limited to the operations and paths SmartRecruiters takes.

`add`, `replace` and `remove` on the top-level fields below and on `/location/<field>`; `active`
and `accessGroups` have their own endpoints and are refused. `replace` on a field that is null
or absent acts like `add`; `remove` of an absent location field is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping

from user2smart.smartrecruiters.emulator.responses import ApiError
from user2smart.smartrecruiters.emulator.validation import LOCATION_FIELDS

OPERATIONS = ("add", "replace", "remove")
TOP_LEVEL = (
    "firstName",
    "lastName",
    "email",
    "externalData",
    "ssoIdentifier",
    "ssoLoginMode",
    "systemRole",
    "language",
    "location",
)


def _bad(message: str) -> ApiError:
    return ApiError(400, "INVALID_PATCH", message)


def _parts(path: object) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise _bad(f"path {path!r} is not a JSON pointer.")
    parts = [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]
    top = parts[0]
    if (len(parts) == 1 and top in TOP_LEVEL) or (
        len(parts) == 2 and top == "location" and parts[1] in LOCATION_FIELDS
    ):
        return parts
    raise ApiError(400, "PATH_NOT_PATCHABLE", f"{path} cannot be changed with PATCH.")


def apply_patch(draft: dict, operations: object) -> dict:
    """Apply every operation to `draft` (the user's input shape) in order; returns `draft`."""
    if not isinstance(operations, list):
        raise _bad("The body must be a JSON array of JSON-Patch operations.")
    for operation in operations:
        if not isinstance(operation, Mapping):
            raise _bad("Each JSON-Patch operation must be an object.")
        op = operation.get("op")
        if op not in OPERATIONS:
            raise ApiError(
                400, "UNSUPPORTED_PATCH_OPERATION", f"op {op!r} is not one of {OPERATIONS}."
            )
        parts = _parts(operation.get("path"))
        if op != "remove" and "value" not in operation:
            raise _bad(f"op {op!r} needs a value.")
        value = operation.get("value")
        if len(parts) == 1:
            draft[parts[0]] = None if op == "remove" else value
            continue
        location = draft.get("location")
        if op == "remove":
            if isinstance(location, dict):
                location.pop(parts[1], None)
            continue
        if not isinstance(location, dict):
            location = draft["location"] = {}
        location[parts[1]] = value
    return draft
