"""Fixtures for import runs: a company connected to the emulator, sample files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.companies import connect_acme
from tests.fixtures.worker import child_env

ROOT = Path(__file__).resolve().parents[3]
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
SAMPLES = SHARED_SAMPLES if SHARED_SAMPLES.exists() else ROOT / "tests" / "data" / "csv" / "samples"


@pytest.fixture
def acme(emulator, transactional_db):
    """The Acme company of the samples, connected to the emulator with its API key."""
    return connect_acme(emulator)


def run_command(*args: str, timeout: float = 120, text: bool = True, **env: str) -> tuple:
    """`manage.py` in a child process, against the test database (as an operator runs it):
    its exit code, standard output and error (bytes with `text=False`)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=text,
        timeout=timeout,
        check=False,
    )
    return result.returncode, result.stdout, result.stderr


def import_json(*args: str, timeout: float = 120, **env: str) -> tuple[int, dict]:
    code, out, err = run_command("import_users", *args, "--json", timeout=timeout, **env)
    assert out.strip(), err
    return code, json.loads(out)


@pytest.fixture
def bulk_acme(emulator, transactional_db):
    """Acme with 150 bulk users, limits raised to 100 req/s so behaviour tests run quickly."""
    from tests.imports.runs.files import bulk_state

    emulator.reset(bulk_state())
    return connect_acme(emulator, rps=100)


def write_file(tmp_path: Path, rows: list[dict], name: str = "people.csv") -> Path:
    from tests.imports.runs.files import csv_bytes

    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return path


def assert_every_row_final(run_id: int) -> None:
    from django.db.models import Count

    from imports.models import ImportRow, ImportRun

    # One statement: the rows still in the table and those folded, seen at the same moment
    # (folding may be going on).
    run = ImportRun.objects.annotate(rows_kept=Count("rows")).get(pk=run_id)
    open_rows = ImportRow.objects.filter(run=run).exclude(status__in=ImportRow.FINAL_STATUSES)
    assert not open_rows.exists(), list(open_rows.values("line", "status"))
    assert run.rows_done == run.rows_total == run.rows_kept + run.rows_folded
    assert run.finished_at is not None
