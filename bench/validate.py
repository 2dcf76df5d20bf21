"""Benchmark: read + check + plan a 100,000-row file against a 100,000-user directory.

    .venv/bin/python bench/validate.py                 # 100,000 rows, 3 rounds
    .venv/bin/python bench/validate.py --rows 20000 --rounds 1
    .venv/bin/python bench/validate.py --profile       # cProfile of one engine pass

Generates a realistic file (19 columns, UTF-8, semicolon, CRLF; 90 % existing users of which
about half change something, 10 % new users; role and group names and ids, locations, accents)
and a directory snapshot of as many users (with their locations, as if read in full). Times, in
the same run, a bare ``csv.reader`` pass over the file and the engine's pass (``read_csv`` ->
``RowChecker.check`` -> ``plan_rows``), best of ``--rounds`` each, and prints both and their
ratio. Then measures the engine pass's peak memory growth with tracemalloc (which slows it, so
it is a separate pass) and the process's peak RSS. Target: ratio <= 8, growth <= 300 MB.

The mapped pass reads the same people as a BambooHR-shaped export (13 columns: ``Work Email``,
``Preferred Name`` or ``First Name``, job titles and departments mapped to roles and groups,
``Status`` mapped to active, country names in four languages through the ``country``
transform) through an import profile (``profile_read`` -> ``RowChecker.check`` -> ``plan_rows``
-> ``name_sources``), timed in the same run as the plain pass. Target: mapped <= 1.5x plain.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import pstats
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imports.csvfile import COLUMNS, read_csv
from imports.planner import Absence, Directory, plan_rows
from imports.profiles import profile_from_json, profile_read
from imports.rows import RowChecker

FIRST_NAMES = ["Alice", "Bob", "Élodie", "Jürgen", "Ana", "Tomasz", "Yuki", "Nadia", "José", "Mei"]
LAST_NAMES = ["Martin", "Keller", "Lefèvre", "Groß", "Souza", "Nowak", "Tanaka", "Peña", "Chen"]
ROLES = [
    {"id": "EMPLOYEE", "name": "Employee"},
    {"id": "STANDARD", "name": "Standard"},
    {"id": "EXTENDED", "name": "Extended"},
    {"id": "64b7f0c2a1d3e4f5a6b7c8d9", "name": "Hiring Manager"},
]
GROUPS = [
    {"id": f"60497fe33e2b74a609b7e4{n:02d}", "name": name}
    for n, name in enumerate(["Product management", "Sales EMEA", "Engineering", "Support"])
]
PLACES = [
    ("FR", "", "Paris", "1 rue de Rivoli", "75001"),
    ("US", "CA", "San Francisco", "500 Howard St", "94105"),
    ("DE", "", "München", "Marienplatz 8", "80331"),
    ("GB", "", "London", "", "EC1A 1BB"),
]
LANGUAGES = ["en", "fr", "de", "es-MX", "pt-BR"]


def make_user(number: int, rng: random.Random) -> dict:
    country, region_code, city, address, postal = rng.choice(PLACES)
    return {
        "id": f"65a{number:021d}",
        "email": f"person.{number}@acme.example",
        "firstName": rng.choice(FIRST_NAMES),
        "lastName": rng.choice(LAST_NAMES),
        "systemRole": {"id": rng.choice(ROLES)["id"]},
        "externalData": f"E{number:06d}",
        "language": {"code": rng.choice(LANGUAGES)},
        "ssoIdentifier": None,
        "active": rng.random() < 0.9,
        "location": {
            "countryCode": country,
            "regionCode": region_code or None,
            "city": city,
            "address": address or None,
            "postalCode": postal,
        },
        "accessGroups": [{"id": rng.choice(GROUPS)["id"]}],
    }


BAMBOOHR_HEADER = [
    "Employee #", "First Name", "Last Name", "Preferred Name", "Work Email", "Job Title",
    "Department", "Location", "City", "Country", "Status", "Preferred Language", "Hire Date",
    "Home Phone",
]  # fmt: skip
LANGUAGE_NAMES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es-MX": "Spanish (Mexico)",
    "pt-BR": "Portuguese (Brazil)",
}
JOB_TITLES = {
    "EMPLOYEE": "Engineer",
    "STANDARD": "Recruiter",
    "EXTENDED": "Recruiting Manager",
    "64b7f0c2a1d3e4f5a6b7c8d9": "Hiring Manager",
}
DEPARTMENTS = {
    "Product management": "Product",
    "Sales EMEA": "Sales",
    "Engineering": "Engineering",
    "Support": "Customer Support",
}
COUNTRY_NAMES = {
    "FR": ["France", "France", "Frankreich", "Francia"],
    "US": ["United States", "États-Unis", "Vereinigte Staaten", "Estados Unidos"],
    "DE": ["Germany", "Allemagne", "Deutschland", "Alemania"],
    "GB": ["United Kingdom", "Royaume-Uni", "Vereinigtes Königreich", "Reino Unido"],
}
MAPPED_PROFILE = {
    "name": "bamboohr",
    "fields": {
        "email": {"column": "Work Email"},
        "firstName": {"column": ["Preferred Name", "First Name"]},
        "lastName": {"column": "Last Name"},
        "externalData": {"column": "Employee #"},
        "systemRoleId": {
            "column": "Job Title",
            "map": {title: role for role, title in JOB_TITLES.items()},
            "default": "EMPLOYEE",
        },
        "languageCode": {
            "column": "Preferred Language",
            "map": {name: code for code, name in LANGUAGE_NAMES.items()},
            "default": "en",
        },
        "active": {"column": "Status", "map": {"Active": "true", "Inactive": "false"}},
        "enabled": {"value": "true"},
        "countryCode": {"column": "Country", "transform": "country"},
        "city": {"column": "City"},
        "accessGroupId": {
            "column": "Department",
            "map": {name: group for group, name in DEPARTMENTS.items()},
        },
    },
}


def make_export_row(user: dict, rng: random.Random, change: bool) -> list[str]:
    """The same person as a BambooHR custom report writes them."""
    location = user["location"]
    group = next(group for group in GROUPS if group["id"] == user["accessGroups"][0]["id"])
    preferred = rng.random() < 0.2
    return [
        user["externalData"],
        user["firstName"],
        user["lastName"] + ("-Durand" if change else ""),
        user["firstName"] if preferred else "",
        user["email"],
        JOB_TITLES[user["systemRole"]["id"]],
        DEPARTMENTS[group["name"]],
        f"{location['city']} Office",
        location["city"],
        rng.choice(COUNTRY_NAMES[location["countryCode"]]),
        "Active" if user["active"] or change else "Inactive",
        LANGUAGE_NAMES[user["language"]["code"]],
        "2021-04-01",
        "+33 1 23 45 67 89",
    ]


def generate_export(rows: int, users: list[dict], path: Path) -> None:
    rng = random.Random(20240602)
    existing = rows * 9 // 10
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(BAMBOOHR_HEADER)
        for number, user in enumerate(users):
            row = make_export_row(user, rng, change=rng.random() < 0.5)
            if number >= existing:
                row[4] = f"new.person.{number}@acme.example"
            writer.writerow(row)


def mapped_pass(path: Path, directory: Directory) -> Counter:
    """One read + map + check + plan of the export through the profile."""
    profile = profile_from_json(MAPPED_PROFILE)
    with path.open("rb") as handle:
        records = profile_read(handle, profile)
        checker = RowChecker(
            roles=directory.roles, groups=directory.groups, ignored=records.ignored
        )
        rows = (checker.check(record) for record in records)
        planned = records.name_sources(plan_rows(rows, "upsert", directory))
        return Counter(row.action for row in planned)


def make_row(user: dict, number: int, rng: random.Random, change: bool) -> list[str]:
    location = user["location"]
    role = next(role for role in ROLES if role["id"] == user["systemRole"]["id"])
    group = next(group for group in GROUPS if group["id"] == user["accessGroups"][0]["id"])
    row = {
        "email": user["email"],
        "firstName": user["firstName"],
        "lastName": user["lastName"] + ("-Durand" if change else ""),
        "systemRoleId": rng.choice([role["id"], role["name"]]),
        "externalData": user["externalData"],
        "languageCode": user["language"]["code"].lower(),
        "ssoIdentifier": "",
        "password": "",
        "active": "TRUE" if user["active"] or change else "FALSE",
        "enabled": "TRUE",
        "countryCode": location["countryCode"].lower(),
        "regionCode": location["regionCode"] or "",
        "region": "California" if location["regionCode"] else "",
        "city": location["city"],
        "address": location["address"] or "",
        "postalCode": location["postalCode"],
        "accessGroupId": rng.choice([group["id"], group["name"]]),
        "sendEmail": "",
        "oldEmail": "",
    }
    return [row[column] for column in COLUMNS]


def generate(rows: int, path: Path) -> list[dict]:
    """Write the file; return the company's users as the User API gives them."""
    rng = random.Random(20240601)
    existing = rows * 9 // 10
    users = [make_user(number, rng) for number in range(rows)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for number, user in enumerate(users):
            row = make_row(user, number, rng, change=rng.random() < 0.5)
            if number >= existing:
                row[0] = f"new.person.{number}@acme.example"
            writer.writerow(row)
    return users


def bare_pass(path: Path) -> int:
    with path.open("rb") as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        return sum(1 for _ in csv.reader(text, delimiter=";"))


def engine_pass(path: Path, directory: Directory, full_sync: bool = False) -> Counter:
    """One read + check + plan of the file; with `full_sync`, the users missing from it are
    planned too (every active user absent from the file, the directory's last tenth)."""
    with path.open("rb") as handle:
        csv_file = read_csv(handle)
        checker = RowChecker(
            roles=directory.roles, groups=directory.groups, ignored=csv_file.dialect.ignored
        )
        rows = (checker.check(record) for record in csv_file)
        absence = Absence() if full_sync else None
        planned = plan_rows(rows, "upsert", directory, absence=absence)
        return Counter(row.action for row in planned)


def best_of(rounds: int, function, *args) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        started = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "users.csv"
        users = generate(options.rows, path)
        export = Path(folder) / "bamboohr.csv"
        generate_export(options.rows, users, export)
        size = os.path.getsize(path) / 1024 / 1024
        started = time.perf_counter()
        directory = Directory.from_api(users=users, system_roles=ROLES, access_groups=GROUPS)
        built = time.perf_counter() - started
        tracemalloc.start()
        copy = Directory.from_api(users=users, system_roles=ROLES, access_groups=GROUPS)
        snapshot = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del users, copy
        print(f"file: {options.rows:,} rows, {size:.1f} MB")
        print(
            f"directory snapshot: {len(directory.users):,} users, built in {built:.2f} s, "
            f"{snapshot / 1024 / 1024:.0f} MB"
        )

        if options.profile:
            profile = cProfile.Profile()
            profile.runcall(engine_pass, path, directory)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
            return

        bare, count = best_of(options.rounds, bare_pass, path)
        engine, actions = best_of(options.rounds, engine_pass, path, directory)
        print(f"bare csv.reader pass: {bare:.3f} s ({count:,} records)")
        counts = {str(action): count for action, count in sorted(actions.items())}
        print(f"read + check + plan:  {engine:.3f} s {counts}")
        print(f"ratio: {engine / bare:.1f}x (target <= 8x)")
        print(f"engine: {engine / options.rows * 1e6:.1f} us per row")
        mapped, actions = best_of(options.rounds, mapped_pass, export, directory)
        counts = {str(action): count for action, count in sorted(actions.items())}
        print(f"mapped (BambooHR export through a profile): {mapped:.3f} s {counts}")
        print(f"mapped / plain: {mapped / engine:.2f}x (target <= 1.5x)")
        full, actions = best_of(options.rounds, engine_pass, path, directory, True)
        counts = {str(action): count for action, count in sorted(actions.items())}
        print(f"full sync (missing people deactivated): {full:.3f} s {counts}")
        print(f"full-sync ratio: {full / bare:.1f}x (target <= 8x)")

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tracemalloc.start()
        engine_pass(path, directory)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory growth of one engine pass (tracemalloc): {peak / 1024 / 1024:.1f} MB")
        tracemalloc.start()
        engine_pass(path, directory, True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"... of one full-sync pass: {peak / 1024 / 1024:.1f} MB")
        print(f"peak RSS of the process: {rss_after:.0f} MB (before that pass: {rss_before:.0f})")


if __name__ == "__main__":
    main()
