"""The demo's SQLite database holds concurrent writers: an upload while a file is checked."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.emulator import ACME_API_KEY, acme_company, default_state, make_users

ROOT = Path(__file__).resolve().parents[2]
USERS = 40
ACTIVE_IN_LYON = ["true", "true", "FR", "Lyon"]
HEADER = [
    "email",
    "firstName",
    "lastName",
    "systemRoleId",
    "languageCode",
    "active",
    "enabled",
    "countryCode",
    "city",
]


@pytest.mark.integration
def test_an_upload_while_a_long_check_runs_on_sqlite_is_not_locked_out(emulator, tmp_path):
    users = make_users(USERS, domain="acme.example")
    emulator.reset(default_state(acme=acme_company(users=acme_company()["users"] + users)))
    emulator.faults(latency_ms=150)  # each user read in full takes a while
    file = tmp_path / "update.csv"
    with file.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for user in users:  # a location: each user is read in full (the list has none)
            writer.writerow(
                [user["email"], "User", user["lastName"], "EMPLOYEE", "en", *ACTIVE_IN_LYON]
            )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "user2smart.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.user2smart.sqlite_writers",
            emulator.url,
            ACME_API_KEY,
            str(file),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["second_upload"] == "uploaded"
    # The second file was stored while the first was still being checked, not after.
    assert outcome["first_status_then"] == "validating"
    assert outcome["first_status"] == "planned"
    assert outcome["journal_mode"] == "wal"
