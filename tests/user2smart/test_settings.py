import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_"))}
    base.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "user2smart.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be true or false, not 'maybe'."),
        ({"DJANGO_DEBUG": "false"}, "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false."),
        (
            {"DJANGO_DEBUG": "true", "DATABASE_URL": "mysql://db/x"},
            "DATABASE_URL must start with postgres:// or sqlite://",
        ),
        ({"DJANGO_DEBUG": "true", "REDIS_URL": "localhost:6379"}, "REDIS_URL must start with"),
        (
            {"DJANGO_DEBUG": "true", "FIELD_ENCRYPTION_KEYS": "not-a-key"},
            "FIELD_ENCRYPTION_KEYS: key 1 is not a Fernet key",
        ),
        ({"DJANGO_DEBUG": "true", "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE 'Mars/Olympus'"),
        ({"DJANGO_DEBUG": "true", "EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be a whole"),
        (
            {"DJANGO_DEBUG": "true", "IMPORT_SENDING_DEADLINE_SECONDS": "190"},
            "IMPORT_SENDING_DEADLINE_SECONDS (190) must be at least IMPORT_ROW_TIME_LIMIT (180) "
            "+ 18 seconds",
        ),
        (
            {
                "DJANGO_DEBUG": "true",
                "IMPORT_ROW_TIME_LIMIT": "10",
                "IMPORT_SENDING_DEADLINE_SECONDS": "11",
            },
            "IMPORT_SENDING_DEADLINE_SECONDS (11) must be at least IMPORT_ROW_TIME_LIMIT (10) + 2",
        ),
        (
            {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50},
            "FIELD_ENCRYPTION_KEYS is required when DJANGO_DEBUG is false",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_clear_line(env, message):
    result = run_check(**env)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [lines[0]], result.stderr
    assert lines[0].startswith("User2Smart configuration error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_good_settings_start_up():
    result = run_check(DJANGO_DEBUG="true")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
