"""The emulator's control API, its state file, its two start commands and its routing."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.fixtures.emulator import (
    ACME_API_KEY,
    ACME_API_KEY_LABEL,
    ACME_CLIENT_ID,
    ACME_CLIENT_SECRET,
    DIRECTORY,
    FALLBACK_DIRECTORY,
    ROOT,
    SIGNIN_APP_ID,
    default_state,
    other_company,
    start_emulator,
)
from tests.fixtures.services import free_port
from user2smart.smartrecruiters.emulator.server import is_loopback

pytestmark = pytest.mark.integration

PACKAGE = ROOT / "user2smart" / "smartrecruiters" / "emulator"
NEW_USER = {
    "email": "kept@acme.example",
    "firstName": "Kept",
    "lastName": "Across Restarts",
    "systemRole": {"id": "STANDARD"},
}


def test_state_gives_back_the_reset_document_with_full_users(emulator):
    state = emulator.state()

    acme = emulator.company("acme")
    assert state["token_ttl_seconds"] == 1800
    assert state["oauth_apps"][0]["client_id"] == SIGNIN_APP_ID
    assert acme["api_keys"] == [ACME_API_KEY]
    assert acme["oauth_clients"] == [
        {"client_id": ACME_CLIENT_ID, "client_secret": ACME_CLIENT_SECRET}
    ]
    assert acme["me"] == "admin@acme.example"
    assert acme["rate_limit"] == {"rps": 10, "concurrent": 8}
    employee = next(role for role in acme["roles"] if role["id"] == "EMPLOYEE")
    assert employee["access_groups_allowed"] is False
    alice = emulator.user("alice.martin@acme.example")
    assert alice["active"] is True
    assert alice["location"]["city"] == "Paris"
    assert alice["accessGroups"] == [{"id": "60497fe33e2b74a609b7e411", "name": "Sales EMEA"}]
    assert alice["systemRole"] == {"id": "STANDARD", "name": "Standard"}


def test_a_minimal_company_gets_sensible_defaults(emulator):
    emulator.reset({"companies": [{"id": "tiny", "api_keys": ["tiny-key"]}]})

    tiny = emulator.company("tiny")
    me = emulator.call("GET", "/users/me", api_key="tiny-key")

    assert [role["id"] for role in tiny["roles"]] == [
        "EMPLOYEE",
        "RESTRICTED",
        "STANDARD",
        "EXTENDED",
        "ADMINISTRATOR",
    ]
    assert len(tiny["languages"]) == 35
    assert tiny["rate_limit"] == {"rps": 10, "concurrent": 8}
    assert tiny["users"] == []
    assert me.status_code == 404
    assert me.headers["X-RateLimit-Limit"] == "10"


@pytest.mark.parametrize(
    "globex",
    [
        other_company(
            users=[{**other_company()["users"][0], "email": "ALICE.martin@acme.example"}]
        ),
        other_company(api_keys=["test-acme-api-key"]),
        other_company(languages=["klingon"]),
        other_company(me="nobody@globex.example"),
        other_company(rate_limit={"rps": 0}),
    ],
)
def test_a_bad_reset_document_is_refused_and_the_state_kept(emulator, globex):
    before = emulator.state()

    response = requests.post(
        f"{emulator.url}/_emulator/reset", json=default_state(globex=globex), timeout=5
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "INVALID_DOCUMENT"
    assert emulator.state() == before


def test_a_reset_forgets_tokens_faults_and_stats(emulator):
    token = requests.post(
        f"{emulator.url}/identity/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": ACME_CLIENT_ID,
            "client_secret": ACME_CLIENT_SECRET,
        },
        timeout=5,
    ).json()["access_token"]
    emulator.faults(error_rate=0.5)

    emulator.reset()

    assert emulator.call("GET", "/users/me", token=token).status_code == 401
    assert emulator.current_faults()["error_rate"] == 0
    assert emulator.stats()["requests"] == {"GET /users/me": {"401": 1}}


def test_deleting_stats_clears_counts_and_keeps_users(emulator):
    emulator.call("POST", "/users", json=NEW_USER)

    emulator.clear_stats()

    assert emulator.stats() == {
        "requests": {},
        "throttled": 0,
        "credentials": {},
        "creates_by_email": {},
        "create_attempts_by_email": {},
        "create_conflicts_by_email": {},
        "activation_emails": {},
        "activation_emails_by_user": {},
        "password_resets": {},
    }
    assert emulator.user("kept@acme.example") is not None


def test_unknown_paths_are_404_and_wrong_methods_405(emulator):
    unknown = emulator.call("GET", "/candidates")
    wrong_method = emulator.call("DELETE", "/users")

    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == "NOT_FOUND"
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET, POST"
    assert emulator.stats()["credentials"][ACME_API_KEY_LABEL]["requests"] == 2


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.7", False),
        ("192.168.1.20", False),
        ("2001:db8::1", False),
    ],
)
def test_the_control_api_is_for_loopback_clients_only(host, allowed):
    assert is_loopback(host) is allowed


def test_keep_alive_connections_serve_many_calls(emulator):
    with requests.Session() as session:
        session.headers["X-SmartToken"] = ACME_API_KEY
        statuses = [
            session.get(emulator.api_url + "/users/me", timeout=5).status_code for _ in range(8)
        ]

    assert statuses == [200] * 8


def test_the_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "emulator.json"
    with start_emulator("--state", str(state)) as first:
        requests.post(f"{first.url}/_emulator/reset", json=default_state(), timeout=5)
        created = requests.post(
            f"{first.url}/user-api/v201804/users",
            json=NEW_USER,
            headers={"X-SmartToken": ACME_API_KEY},
            timeout=5,
        ).json()

    saved = json.loads(state.read_text())
    with start_emulator("--state", str(state)) as second:
        again = requests.get(
            f"{second.url}/user-api/v201804/users/{created['id']}",
            headers={"X-SmartToken": ACME_API_KEY},
            timeout=5,
        )

    assert any(u["email"] == "kept@acme.example" for u in saved["companies"][0]["users"])
    assert again.status_code == 200
    assert again.json() == created
    assert not list(tmp_path.glob(".emulator.json.*"))  # no temporary file left behind


def test_the_state_file_is_written_while_the_emulator_runs(tmp_path):
    state = tmp_path / "state.json"
    with start_emulator("--state", str(state)) as process:
        requests.post(f"{process.url}/_emulator/reset", json=default_state(), timeout=5)
        requests.post(
            f"{process.url}/user-api/v201804/users",
            json=NEW_USER,
            headers={"X-SmartToken": ACME_API_KEY},
            timeout=5,
        )
        deadline = time.monotonic() + 10
        while "kept@acme.example" not in (state.read_text() if state.exists() else ""):
            assert time.monotonic() < deadline, "the state file was not written"
            time.sleep(0.05)
        assert json.loads(state.read_text())["companies"][0]["id"] == "acme"


def test_start_flags_seed_the_state_and_set_faults(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(default_state()))
    with start_emulator(
        "--seed", str(seed), "--throttle-rate", "1", "--no-throttle-retry-after"
    ) as process:
        faults = requests.get(f"{process.url}/_emulator/faults", timeout=5).json()
        answer = requests.get(
            f"{process.url}/user-api/v201804/users/me",
            headers={"X-SmartToken": ACME_API_KEY},
            timeout=5,
        )

    assert faults["throttle_rate"] == 1.0
    assert faults["throttle_retry_after"] is False
    assert answer.status_code == 429
    assert "Retry-After" not in answer.headers


def test_the_management_command_runs_the_same_server(tmp_path):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "command.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sr_emulator", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/_emulator/state", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None, (tmp_path / "command.log").read_text()
                assert time.monotonic() < deadline, "manage.py sr_emulator did not start"
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(10)
        log.close()

    assert answer.json() == {"companies": [], "oauth_apps": [], "token_ttl_seconds": 1800}
    assert code == 0
    assert "listening on" in (tmp_path / "command.log").read_text()


def test_the_emulator_package_does_not_import_django():
    imported = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])

    assert imported
    assert "django" not in imported
    assert imported <= set(sys.stdlib_module_names) | {"user2smart"}


def test_the_checked_in_directory_copy_matches_the_shared_sample():
    copy = json.loads(FALLBACK_DIRECTORY.read_text())

    if DIRECTORY.exists():
        assert copy == json.loads(DIRECTORY.read_text())
    assert any(user["systemRole"]["id"] == "ADMINISTRATOR" for user in copy["users"])
