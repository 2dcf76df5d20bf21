"""Import profiles: an HR system's export, taken as it is, mapped to the 19 fields.

Pure: no Django, no HTTP. ``profile_from_json`` checks a profile's JSON; ``profile_read`` reads
a file through a profile (the built-in ``STANDARD`` is the 19-column format); the records it
gives go to ``rows.RowChecker`` like any, and ``ProfiledFile.name_sources`` makes every error of
the plan name the file's own column ("Work Email is empty (mapped to email).").
"""

from __future__ import annotations

from imports.profiles.countries import country_code
from imports.profiles.mapping import Binding, ProfiledFile, profile_read, repeated_ids
from imports.profiles.spec import (
    MATCHES,
    STANDARD,
    STANDARD_NAME,
    TRANSFORMS,
    Profile,
    ProfileError,
    Rule,
    profile_from_json,
)

__all__ = [
    "MATCHES",
    "STANDARD",
    "STANDARD_NAME",
    "TRANSFORMS",
    "Binding",
    "Profile",
    "ProfileError",
    "ProfiledFile",
    "Rule",
    "country_code",
    "profile_from_json",
    "profile_read",
    "repeated_ids",
]
