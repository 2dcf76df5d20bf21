"""Build import files and the emulated directory they run against."""

from __future__ import annotations

import csv
import io

from imports.csvfile import COLUMNS
from tests.fixtures.emulator import acme_company, default_state, make_users

DOMAIN = "bulk.example"


def csv_bytes(rows: list[dict], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in COLUMNS})
    return out.getvalue().encode()


def person(i: int, **fields: str) -> dict:
    """Row `i` as make_users(DOMAIN) has the user: importing it unchanged changes nothing."""
    return {
        "email": f"user{i:05d}@{DOMAIN}",
        "firstName": "User",
        "lastName": f"Number {i}",
        "systemRoleId": "EMPLOYEE",
        "externalData": f"B{i:05d}",
        "languageCode": "en",
        "active": "true",
        "enabled": "true",
        **fields,
    }


def mixed_rows(existing: int = 150) -> list[dict]:
    """200 rows: 50 unchanged, 50 updates, 20 deactivations, 70 new (40 active, 30 inactive),
    10 errors. Users 0..existing-1 exist."""
    rows = [person(i) for i in range(50)]
    rows += [person(i, lastName=f"Renamed {i}") for i in range(50, 100)]
    rows += [person(i, active="false", enabled="false") for i in range(100, 120)]
    rows += [person(i) for i in range(existing, existing + 40)]
    rows += [
        person(i, active="false", enabled="false") for i in range(existing + 40, existing + 70)
    ]
    rows += [person(i, languageCode="klingon") for i in range(existing + 70, existing + 80)]
    return rows


def bulk_state(existing: int = 150, rps: int = 100, concurrent: int = 8) -> dict:
    """Acme with `existing` bulk users and a generous rate limit (tests of behaviour, not rate)."""
    acme = acme_company(rate_limit={"rps": rps, "concurrent": concurrent})
    acme["users"] = acme["users"] + make_users(existing, DOMAIN)
    return default_state(acme=acme)
