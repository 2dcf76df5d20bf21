"""Check one raw record: a typed ``UserRow``, or a ``RejectedRow`` holding every error it has.

Pure: no Django, no HTTP. Roles and access groups come in as SmartRecruiters lists them
(``{"id", "name"}`` dicts), so names are resolved to ids here, once per distinct value. Messages
are sentences for HR admins; each ``RowError`` names its line, column and value, and never a
password.
"""

from __future__ import annotations

from imports.rows.checker import RowChecker, check_records
from imports.rows.shapes import RejectedRow, RowError, UserRow
from imports.rows.values import (
    LANGUAGE_CODES,
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SSO_IDENTIFIER_LENGTH,
    Catalogue,
    EmailChecker,
    canonical_language,
    clean,
)

__all__ = [
    "LANGUAGE_CODES",
    "MAX_EMAIL_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_SSO_IDENTIFIER_LENGTH",
    "Catalogue",
    "EmailChecker",
    "RejectedRow",
    "RowChecker",
    "RowError",
    "UserRow",
    "canonical_language",
    "check_records",
    "clean",
]
