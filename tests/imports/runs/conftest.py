"""Fixtures for import runs: a company connected to the emulator, sample files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.emulator import ACME_API_KEY
from tests.fixtures.worker import database_url
from user2smart.companies.services import company_save

ROOT = Path(__file__).resolve().parents[3]
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
SAMPLES = SHARED_SAMPLES if SHARED_SAMPLES.exists() else ROOT / "tests" / "data" / "csv" / "samples"


@pytest.fixture
def acme(emulator, transactional_db):
    """The Acme company of the samples, connected to the emulator with its API key."""
    return company_save(
        slug="acme", name="Acme Demo", api_url=emulator.url, api_key=ACME_API_KEY
    ).company


def run_command(*args: str, timeout: float = 120) -> tuple[int, str, str]:
    """`manage.py` in a child process, against the test database (as an operator runs it)."""
    import os

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url()}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def import_json(*args: str, timeout: float = 120) -> tuple[int, dict]:
    code, out, err = run_command("import_users", *args, "--json", timeout=timeout)
    assert out.strip(), err
    return code, json.loads(out)
