"""The rules a user's fields must follow, as SmartRecruiters applies them (pure functions).

`check_user_fields` reads a user in the API's input shape (a create body, or a user after a
JSON-Patch) and returns the normalised fields, or raises `ApiError` with the status and code the
emulator documents in docs/emulator.md.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from user2smart.smartrecruiters.emulator.responses import ApiError

# fmt: off
LANGUAGES = (
    "bg", "cs", "da", "de", "el", "en", "es", "es-MX", "fi", "fr", "fr-CA", "hr", "hu", "id", "it",
    "ja", "lt", "nl", "no", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sr", "sv", "th", "tr",
    "uk", "vi", "zh-CN", "zh-TW", "ka",
)
# fmt: on
BUILTIN_ROLES = (
    ("EMPLOYEE", "Employee"),
    ("RESTRICTED", "Restricted"),
    ("STANDARD", "Standard"),
    ("EXTENDED", "Extended"),
    ("ADMINISTRATOR", "Administrator"),
)
SEATS = ("smartPal", "crm", "recruitingAI", "textMessaging")
SSO_LOGIN_MODES = ("SSO", "PASSWORD")
LOCATION_FIELDS = ("countryCode", "regionCode", "city", "address", "postalCode")
NAME_MAX = 300
SSO_IDENTIFIER_MAX = 100
EMAIL_MAX = 254

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


@dataclass(frozen=True, slots=True)
class UserFields:
    email: str
    first_name: str
    last_name: str
    role_id: str
    external_data: str | None
    sso_identifier: str | None
    sso_login_mode: str | None
    language: str
    location: dict[str, str | None] | None
    seats: tuple[str, ...]


def required(field: str) -> ApiError:
    return ApiError(400, "REQUIRED_FIELD_MISSING", f"{field} is required.")


def wrong_type(field: str, expected: str) -> ApiError:
    return ApiError(422, "INVALID_FIELD", f"{field} must be {expected}.")


def _optional_string(draft: Mapping, field: str) -> str | None:
    value = draft.get(field)
    if value is not None and not isinstance(value, str):
        raise wrong_type(field, "a string or null")
    return value


def check_email(value: object) -> str:
    if value is None or value == "":
        raise required("email")
    if not isinstance(value, str):
        raise wrong_type("email", "a string")
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        raise ApiError(400, "INVALID_EMAIL", "email is not a valid email address.")
    return value


def check_name(draft: Mapping, field: str) -> str:
    value = draft.get(field)
    if value is None:
        raise required(field)
    if not isinstance(value, str):
        raise wrong_type(field, "a string")
    if not 1 <= len(value) <= NAME_MAX or value != value.strip():
        raise ApiError(
            400,
            "INVALID_USER_NAME",
            f"{field} must be 1-{NAME_MAX} characters without leading or trailing spaces.",
        )
    return value


def check_role(value: object, roles: Collection[str]) -> str:
    if value is None:
        raise required("systemRole")
    if not isinstance(value, Mapping) or not isinstance(value.get("id"), str):
        raise wrong_type("systemRole", 'an object with a string "id"')
    if value["id"] not in roles:
        raise ApiError(
            400, "INVALID_SYSTEM_ROLE", "Selected role is not existing in company configuration."
        )
    return value["id"]


def check_language(value: object, enabled: Collection[str]) -> str:
    if value is None:
        return "en" if "en" in enabled else next(iter(enabled), "en")
    if not isinstance(value, Mapping) or not isinstance(value.get("code"), str):
        raise wrong_type("language", 'an object with a string "code"')
    code = value["code"]
    if code not in LANGUAGES:
        raise ApiError(422, "INVALID_LANGUAGE", f"language.code {code!r} is not a known language.")
    if code not in enabled:
        raise ApiError(
            400, "LANGUAGE_DISABLED", f"Language {code!r} is not enabled for this company."
        )
    return code


def check_location(value: object) -> dict[str, str | None] | None:
    """Input fields only; countryCode (2 letters, any case, kept upper-case) and city required."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise wrong_type("location", "an object or null")
    location: dict[str, str | None] = {}
    for field in LOCATION_FIELDS:
        item = value.get(field)
        if item is not None and not isinstance(item, str):
            raise wrong_type(f"location.{field}", "a string or null")
        location[field] = item or None
    country = location["countryCode"]
    if country is None or not _COUNTRY_CODE.match(country):
        raise ApiError(
            400, "INVALID_LOCATION", "location.countryCode must be a 2-letter country code."
        )
    location["countryCode"] = country.upper()
    if location["city"] is None:
        raise ApiError(400, "INVALID_LOCATION", "location.city is required with a location.")
    return location


def check_sso_identifier(draft: Mapping) -> str | None:
    value = _optional_string(draft, "ssoIdentifier")
    if value is not None and len(value) > SSO_IDENTIFIER_MAX:
        raise ApiError(
            400,
            "INVALID_SSO_IDENTIFIER",
            f"ssoIdentifier must be at most {SSO_IDENTIFIER_MAX} characters.",
        )
    return value or None


def check_seats(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or any(seat not in SEATS for seat in value):
        raise wrong_type("seats", "a list of " + ", ".join(SEATS))
    return tuple(value)


def check_user_fields(
    draft: Mapping, *, roles: Collection[str], languages: Collection[str]
) -> UserFields:
    """Check a whole user in the API's input shape; the first broken rule raises ApiError."""
    if not isinstance(draft, Mapping):
        raise ApiError(400, "INVALID_JSON", "The body must be a JSON object.")
    email = check_email(draft.get("email"))
    first_name = check_name(draft, "firstName")
    last_name = check_name(draft, "lastName")
    role_id = check_role(draft.get("systemRole"), roles)
    sso_login_mode = _optional_string(draft, "ssoLoginMode")
    if sso_login_mode is not None and sso_login_mode not in SSO_LOGIN_MODES:
        raise wrong_type("ssoLoginMode", "SSO, PASSWORD or null")
    _optional_string(draft, "password")
    return UserFields(
        email=email,
        first_name=first_name,
        last_name=last_name,
        role_id=role_id,
        external_data=_optional_string(draft, "externalData"),
        sso_identifier=check_sso_identifier(draft),
        sso_login_mode=sso_login_mode,
        language=check_language(draft.get("language"), languages),
        location=check_location(draft.get("location")),
        seats=check_seats(draft.get("seats")),
    )
