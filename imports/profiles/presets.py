"""Presets: starting points for the exports of common HR systems, from their documented column
names. Each is a profile's JSON; a company saves one as its own profile, then adapts it (role
names, statuses, a column its report adds). Their sample files are in ``docs/samples/``.
"""

from __future__ import annotations

from typing import Any

# Roles: the HR system's job titles never match SmartRecruiters' roles one to one, so each
# preset maps a few common recruiting titles and gives everyone else the Employee role.
_ROLES = {
    "Recruiter": "STANDARD",
    "Talent Acquisition Partner": "STANDARD",
    "Recruiting Manager": "EXTENDED",
    "Head of Talent Acquisition": "EXTENDED",
    "*": "EMPLOYEE",
}

PRESETS: dict[str, dict[str, Any]] = {
    # BambooHR: a custom report's column labels (documented "List of Field Names").
    "bamboohr": {
        "name": "bamboohr",
        "match": "email",
        "fields": {
            "email": {"column": "Work Email"},
            "firstName": {"column": ["Preferred Name", "First Name"]},
            "lastName": {"column": "Last Name"},
            "externalData": {"column": "Employee #"},
            "systemRoleId": {"column": "Job Title", "map": _ROLES},
            "languageCode": {"value": "en"},
            "active": {"column": "Status", "map": {"Active": "true", "Inactive": "false"}},
            "enabled": {"value": "true"},
            "countryCode": {"column": "Country", "transform": "country"},
            "city": {"column": "City"},
        },
    },
    # Workday: a custom report on Workers with the fields' display names; the Employee ID is
    # stable while work emails change, so users are found by it.
    "workday": {
        "name": "workday",
        "match": "externalData",
        "fields": {
            "email": {"column": "Primary Work Email"},
            "firstName": {"column": ["Preferred First Name", "Legal First Name"]},
            "lastName": {"column": ["Preferred Last Name", "Legal Last Name"]},
            "externalData": {"column": "Employee ID"},
            "systemRoleId": {"column": "Business Title", "map": _ROLES},
            "languageCode": {"value": "en"},
            "active": {
                "column": "Active Status",
                "map": {"1": "true", "Yes": "true", "0": "false", "No": "false"},
            },
            "enabled": {"value": "true"},
            "countryCode": {"column": "Country", "transform": "country"},
            "city": {"column": "City"},
        },
    },
    # Personio: the employee export's attribute labels (Status: active, onboarding, leave,
    # inactive). Personio exports no country, only the office's name.
    "personio": {
        "name": "personio",
        "match": "email",
        "fields": {
            "email": {"column": "Email"},
            "firstName": {"column": ["Preferred name", "First name"]},
            "lastName": {"column": "Last name"},
            "externalData": {"column": "ID"},
            "systemRoleId": {"column": "Position", "map": _ROLES},
            "languageCode": {"value": "en"},
            "active": {
                "column": "Status",
                "map": {"active": "true", "onboarding": "true", "leave": "true"},
                "default": "false",
            },
            "enabled": {"value": "true"},
        },
    },
    # HiBob: a People report with its field labels (Lifecycle status: Hired, Employed, On
    # leave, Garden leave, Terminated).
    "hibob": {
        "name": "hibob",
        "match": "email",
        "fields": {
            "email": {"column": "Email"},
            "firstName": {"column": ["Display name", "First name"]},
            "lastName": {"column": "Last name"},
            "externalData": {"column": "Employee ID"},
            "systemRoleId": {"column": "Job title", "map": _ROLES},
            "languageCode": {"value": "en"},
            "active": {"column": "Lifecycle status", "map": {"Terminated": "false", "*": "true"}},
            "enabled": {"value": "true"},
            "countryCode": {"column": "Work country", "transform": "country"},
            "city": {"column": "Work city"},
        },
    },
    # SAP SuccessFactors: the user data file's system keys (its first header row). Export it
    # without the second row of labels, or that row is reported as one error row.
    "successfactors": {
        "name": "successfactors",
        "match": "externalData",
        "fields": {
            "email": {"column": "EMAIL"},
            "firstName": {"column": "FIRSTNAME"},
            "lastName": {"column": "LASTNAME"},
            "externalData": {"column": "USERID"},
            "systemRoleId": {"column": "TITLE", "map": _ROLES},
            "languageCode": {"value": "en"},
            "active": {"column": "STATUS", "map": {"active": "true", "inactive": "false"}},
            "enabled": {"value": "true"},
            "countryCode": {"column": "COUNTRY", "transform": "country"},
            "city": {"column": "CITY"},
        },
    },
}


def preset(name: str) -> dict[str, Any] | None:
    """A copy of the preset's JSON, or None."""
    data = PRESETS.get(name.strip().lower())
    return None if data is None else {**data, "fields": dict(data["fields"])}
