"""The demo company in the bundled SmartRecruiters emulator: roles, access groups, ~50 users
and the people of the documentation's sample files."""

from __future__ import annotations

import copy
import json
import random
import urllib.request

FIRST_NAMES = [
    "Alice",
    "Bob",
    "Carla",
    "Dmitri",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Lena",
    "Marco",
    "Nora",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_NAMES = [
    "Martin",
    "Keller",
    "Ruiz",
    "Ivanov",
    "Dubois",
    "Haddad",
    "Okafor",
    "Lefevre",
    "Silva",
    "Berg",
    "Sato",
    "Novak",
    "Rossi",
    "Larsen",
    "Nyberg",
    "Patel",
]
CITIES = [("FR", "Paris"), ("DE", "Berlin"), ("ES", "Madrid"), ("US", "Boston"), ("GB", "London")]
ROLES = [
    {"id": "EMPLOYEE", "name": "Employee"},
    {"id": "RESTRICTED", "name": "Restricted"},
    {"id": "STANDARD", "name": "Standard"},
    {"id": "EXTENDED", "name": "Extended"},
    {"id": "ADMINISTRATOR", "name": "Administrator"},
    {"id": "64b7f0c2a1d3e4f5a6b7c8d9", "name": "Hiring Manager"},
]
GROUPS = [
    {"id": "60497fe33e2b74a609b7e410", "name": "Product management"},
    {"id": "60497fe33e2b74a609b7e411", "name": "Sales EMEA"},
    {"id": "60497fe33e2b74a609b7e412", "name": "Engineering"},
    {"id": "60497fe33e2b74a609b7e413", "name": "People team"},
]
# The people the sample files of the documentation assume (tests/data/csv/samples/directory.json):
# uploading one of those files to the demo updates them or leaves them unchanged.
SAMPLE_PEOPLE = [
    {
        "id": "65a000000000000000000001",
        "email": "alice.martin@acme.example",
        "firstName": "Alice",
        "lastName": "Martin",
        "systemRole": {"id": "STANDARD", "name": "Standard"},
        "externalData": "E1001",
        "language": {"code": "fr"},
        "active": True,
        "location": {
            "countryCode": "FR",
            "city": "Paris",
            "address": "1 rue de Rivoli",
            "postalCode": "75001",
        },
        "accessGroups": [{"id": "60497fe33e2b74a609b7e411", "name": "Sales EMEA"}],
    },
    {
        "id": "65a000000000000000000002",
        "email": "bob.keller@acme.example",
        "firstName": "Bob",
        "lastName": "Keller",
        "systemRole": {"id": "EMPLOYEE", "name": "Employee"},
        "externalData": "E1002",
        "language": {"code": "de"},
        "ssoIdentifier": "bkeller",
        "active": True,
        "accessGroups": [],
    },
    {
        "id": "65a000000000000000000003",
        "email": "carla.ruiz@acme.example",
        "firstName": "Carla",
        "lastName": "Ruiz",
        "systemRole": {"id": "EXTENDED", "name": "Extended"},
        "language": {"code": "es-MX"},
        "active": False,
        "accessGroups": [],
    },
    {
        "id": "65a000000000000000000004",
        "email": "admin@acme.example",
        "firstName": "Erin",
        "lastName": "Admin",
        "systemRole": {"id": "ADMINISTRATOR", "name": "Administrator"},
        "language": {"code": "en"},
        "active": True,
        "accessGroups": [],
    },
]
SIGNIN_APP_ID = "user2smart-demo-signin"
SIGNIN_APP_SECRET = "demo-signin-secret"  # a secret of the local emulator only  # noqa: S105


def demo_company(api_key: str) -> dict:
    rng = random.Random(2026)  # noqa: S311 (demo data, not security)
    users = [
        {
            "id": "64b7f0c2a1d3e4f5a6b70001",
            "email": "hr.admin@acme.example",
            "firstName": "Helena",
            "lastName": "Admin",
            "systemRole": {"id": "ADMINISTRATOR", "name": "Administrator"},
            "language": {"code": "en"},
            "active": True,
            "accessGroups": [],
        }
    ]
    for n in range(2, 51):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        country, city = rng.choice(CITIES)
        role = rng.choice(ROLES[:4] + ROLES[5:])
        groups = [] if role["id"] == "EMPLOYEE" else rng.sample(GROUPS, rng.randint(0, 2))
        users.append(
            {
                "id": f"64b7f0c2a1d3e4f5a6b7{n:04d}",
                "email": f"{first}.{last}{n}@acme.example".lower(),
                "firstName": first,
                "lastName": last,
                "systemRole": role,
                "externalData": f"E{1000 + n}",
                "language": {"code": rng.choice(["en", "fr", "de", "es"])},
                "location": {"countryCode": country, "city": city},
                "active": rng.random() > 0.15,
                "accessGroups": [{"id": g["id"], "name": g["name"]} for g in groups],
            }
        )
    users.extend(copy.deepcopy(SAMPLE_PEOPLE))
    return {
        "id": "acme-demo",
        "name": "Acme Demo",
        "api_keys": [api_key],
        "oauth_clients": [],
        "me": "hr.admin@acme.example",
        "roles": ROLES,
        "access_groups": GROUPS,
        "users": users,
        "rate_limit": {"rps": 10, "concurrent": 8},
    }


def sample_rows() -> list[dict[str, str]]:
    """The demo's sample file, 11 rows: three updates, a deactivation, one unchanged person,
    five new people and one row with an error."""
    users = demo_company("unused")["users"]
    rows = []
    for user in users[1:4]:
        rows.append(_row(user, lastName=f"{user['lastName']}-Smith"))
    rows.append(_row(users[4], active="false", enabled="false"))
    rows.append(_row(users[5]))  # unchanged
    for n, (first, last) in enumerate(
        [("Nina", "Berg"), ("Omar", "Haddad"), ("Pia", "Sato"), ("Raul", "Silva"), ("Sara", "Lind")]
    ):
        rows.append(
            {
                "email": f"{first}.{last}@acme.example".lower(),
                "firstName": first,
                "lastName": last,
                "systemRoleId": "Hiring Manager" if n % 2 else "EMPLOYEE",
                "externalData": f"N{100 + n}",
                "languageCode": "en",
                "active": "true",
                "enabled": "true",
                "countryCode": "FR",
                "city": "Lyon",
                "accessGroupId": "Engineering" if n % 2 else "",
                "sendEmail": "true",
            }
        )
    rows.append(
        {
            "email": "no.country@acme.example",
            "firstName": "Tom",
            "lastName": "Wrong",
            "systemRoleId": "EMPLOYEE",
            "languageCode": "en",
            "active": "true",
            "enabled": "true",
            "city": "Somewhere",
        }
    )
    return rows


def _row(user: dict, **changes: str) -> dict[str, str]:
    location = user.get("location") or {}
    row = {
        "email": user["email"],
        "firstName": user["firstName"],
        "lastName": user["lastName"],
        "systemRoleId": user["systemRole"]["id"],
        "externalData": user.get("externalData", ""),
        "languageCode": user["language"]["code"],
        "active": "true" if user["active"] else "false",
        "enabled": "true" if user["active"] else "false",
        "countryCode": location.get("countryCode", ""),
        "city": location.get("city", ""),
        "accessGroupId": "|".join(g["id"] for g in user.get("accessGroups", [])),
    }
    row.update(changes)
    return row


def _call(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (the local emulator)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        raw = response.read()
    return json.loads(raw) if raw else {}


def seed_emulator(url: str, *, api_key: str, only_if_empty: bool) -> bool:
    """Reset the emulator to the demo company; with only_if_empty, keep an existing state."""
    if only_if_empty and _call(f"{url}/_emulator/state").get("companies"):
        return False
    _call(
        f"{url}/_emulator/reset",
        "POST",
        {
            "companies": [demo_company(api_key)],
            "oauth_apps": [{"client_id": SIGNIN_APP_ID, "client_secret": SIGNIN_APP_SECRET}],
        },
    )
    return True
