"""Undo a run: `undo_run` puts SmartRecruiters back the way it was before the run.

Real runs (`import_users` and `undo_run` in child processes, real worker processes) against the
emulator; what the users look like is read from the emulator's state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imports.models import ImportRun
from imports.selectors import run_document
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import acme_company, default_state
from tests.imports.runs.conftest import import_json, run_command, write_file
from tests.imports.runs.test_full_sync import wait_until_ended

pytestmark = pytest.mark.integration

ALICE = "alice.martin@acme.example"
BOB = "bob.keller@acme.example"
ROBERT = "robert.keller@acme.example"
CARLA = "carla.ruiz@acme.example"
DAN = "dan.weber@acme.example"  # not in the file: deactivated by the full sync
EVE = "eve.stone@acme.example"  # inactive in the file
FAY = "fay.chen@acme.example"  # renamed, then refused an access group (her role has none)
NEW = ("nadia.haddad@acme.example", "tomasz.nowak@acme.example")
ENGINEERING = "60497fe33e2b74a609b7e412"
SALES = "60497fe33e2b74a609b7e411"
ACTIVATION_EMAIL = "POST /users/{id}/activation-email"


def extra(email: str, i: int) -> dict:
    first, last = email.split("@")[0].split(".")
    return {
        "id": f"65a0000000000000000000{i:02x}",
        "email": email,
        "firstName": first.title(),
        "lastName": last.title(),
        "systemRole": {"id": "EMPLOYEE"},
        "language": {"code": "en"},
        "active": True,
    }


@pytest.fixture
def acme(emulator, transactional_db):
    """Acme of the samples (Alice, Bob, Carla inactive, its administrator), with Dan and Eve."""
    state = acme_company(rate_limit={"rps": 100, "concurrent": 8})
    state["users"] += [extra(DAN, 0x10), extra(EVE, 0x11), extra(FAY, 0x12)]
    emulator.reset(default_state(acme=state))
    return connect_acme(emulator, rps=100)


def row(email: str, first: str, last: str, **fields: str) -> dict:
    return {
        "email": email,
        "firstName": first,
        "lastName": last,
        "systemRoleId": "EMPLOYEE",
        "languageCode": "en",
        "active": "true",
        "enabled": "true",
        **fields,
    }


# Every field changed for Alice; Bob's email; Carla activated; Eve deactivated; two new people;
# Dan missing from the file (deactivated by the full sync).
THE_FILE = [
    row(
        ALICE,
        "Alicia",
        "Martin-Durand",
        systemRoleId="EXTENDED",
        externalData="E9001",
        languageCode="en",
        ssoIdentifier="alice.sso",
        countryCode="FR",
        city="Lyon",
        accessGroupId="Engineering|Product management",
    ),
    row(ROBERT, "Bob", "Keller", externalData="E1002", languageCode="de", ssoIdentifier="bkeller",
        oldEmail=BOB),
    row(CARLA, "Carla", "Ruiz", systemRoleId="EXTENDED", languageCode="es-MX"),
    row(EVE, "Eve", "Stone", active="false", enabled="false"),
    row(FAY, "Fay", "Chen-Wu", accessGroupId="Engineering"),
    row(NEW[0], "Nadia", "Haddad", sendEmail="true"),
    row(NEW[1], "Tomasz", "Nowak", systemRoleId="STANDARD", accessGroupId="Engineering"),
]  # fmt: skip


def looks(emulator) -> dict[str, dict]:
    """What the admin sees of each user of Acme, by id (not when it was last updated)."""
    return {
        user["id"]: {
            "email": user["email"],
            "firstName": user["firstName"],
            "lastName": user["lastName"],
            "systemRole": user["systemRole"]["id"],
            "externalData": user.get("externalData"),
            "language": user["language"]["code"],
            "ssoIdentifier": user.get("ssoIdentifier"),
            "active": user["active"],
            "accessGroups": sorted(group["id"] for group in user.get("accessGroups") or ()),
            "location": {
                key: value
                for key, value in (user.get("location") or {}).items()
                if key in ("countryCode", "regionCode", "city", "address", "postalCode") and value
            },
        }
        for user in emulator.users()
    }


def undo_json(*args: str) -> tuple[int, dict]:
    code, out, err = run_command("undo_run", *args, "--json")
    assert out.strip(), err
    return code, json.loads(out)


def the_run(tmp_path: Path, emulator) -> dict:
    code, document = import_json(
        str(write_file(tmp_path, THE_FILE)), "--company", "acme", "--missing", "deactivate"
    )
    failed = [row["email"] for row in document["rows"] if row["result"] != "OK"]
    assert (code, failed) == (1, [FAY]), document
    assert emulator.user(FAY)["lastName"] == "Chen-Wu"  # sent before the group was refused
    assert document["counts"] == {
        "create": 2,
        "update": 5,
        "unchanged": 0,
        "error": 0,
        "deactivate": 1,
    }
    return document


def test_undo_puts_every_field_back_and_undoing_the_undo_redoes_the_run(
    acme, emulator, celery_worker, tmp_path: Path
):
    before = looks(emulator)
    run = the_run(tmp_path, emulator)
    after = looks(emulator)
    assert after != before
    emulator.clear_stats()

    code, undo = undo_json(str(run["run"]))

    assert code == 0, (undo, celery_worker.output())
    assert (undo["result"], undo["status"], undo["undoes"]) == ("V", "finished", run["run"])
    now = looks(emulator)
    created = {user_id for user_id in now if user_id not in before}
    assert {now[user_id]["email"] for user_id in created} == set(NEW)
    assert not any(now[user_id]["active"] for user_id in created)
    assert {user_id: now[user_id] for user_id in before} == before  # every field, every user
    assert emulator.user(DAN)["active"]
    assert emulator.user(CARLA)["active"] is False
    assert emulator.user(BOB) is not None
    assert emulator.user(ROBERT) is None
    assert ACTIVATION_EMAIL not in emulator.stats()["requests"]
    messages = {row["email"]: row["message"] for row in undo["rows"]}
    assert "SmartRecruiters cannot delete users, so it is deactivated" in messages[NEW[0]]
    assert f"Import {run['run']} stopped part-way on this row" in messages[FAY]
    undo_run = ImportRun.objects.get(pk=undo["run"])
    assert (undo_run.source, undo_run.undoes_id) == ("undo", run["run"])
    assert list(ImportRun.objects.get(pk=run["run"]).undone_by.all()) == [undo_run]

    code, redo = undo_json(str(undo["run"]))

    assert code == 0, (redo, celery_worker.output())
    assert looks(emulator) == after
    assert ACTIVATION_EMAIL not in emulator.stats()["requests"]


def test_a_field_changed_since_the_run_is_left_alone_and_reported_unless_forced(
    acme, emulator, celery_worker, tmp_path: Path
):
    run = the_run(tmp_path, emulator)
    alice = emulator.user(ALICE)
    patch = [{"op": "replace", "path": "/lastName", "value": "Martin-Lefebvre"}]
    emulator.call(
        "PATCH",
        f"/users/{alice['id']}",
        json=patch,
        headers={"Content-Type": "application/json-patch+json"},
    ).raise_for_status()

    code, undo = undo_json(str(run["run"]))

    assert code == 0, (undo, celery_worker.output())
    alice = emulator.user(ALICE)
    assert (alice["firstName"], alice["lastName"]) == ("Alice", "Martin-Lefebvre")
    assert alice["systemRole"]["id"] == "STANDARD"
    [row] = [row for row in undo["rows"] if row["email"] == ALICE]
    assert (
        'Changed since import {}: lastName is now "Martin-Lefebvre"'.format(run["run"])
        in (row["message"])
    )
    assert "lastName" not in row["changes"]

    code, forced = undo_json(str(run["run"]), "--force", "--email", ALICE)

    assert code == 0, (forced, celery_worker.output())
    assert emulator.user(ALICE)["lastName"] == "Martin"
    [row] = forced["rows"]
    assert row["changes"]["lastName"] == ["Martin-Lefebvre", "Martin"]


def test_only_the_people_chosen_are_put_back(acme, emulator, celery_worker, tmp_path: Path):
    run = the_run(tmp_path, emulator)
    after = looks(emulator)

    chosen = ("--email", BOB, "--email", NEW[1].upper())
    code, out, err = run_command("undo_run", str(run["run"]), *chosen, "--no-wait", "--json")

    assert code == 0, err
    undo_run = ImportRun.objects.get(pk=json.loads(out)["run"])  # returned at once
    wait_until_ended(undo_run)
    undo = run_document(undo_run)
    assert undo["result"] == "V", (undo, celery_worker.output())
    assert sorted(row["email"] for row in undo["rows"]) == [BOB, NEW[1]]
    now = looks(emulator)
    changed = {user_id for user_id in now if now[user_id] != after[user_id]}
    assert {after[user_id]["email"] for user_id in changed} == {ROBERT, NEW[1]}
    assert emulator.user(BOB) is not None
    assert not emulator.user(NEW[1])["active"]
    assert emulator.user(ALICE)["lastName"] == "Martin-Durand"


def test_a_preview_of_the_undo_changes_nothing(acme, emulator, celery_worker, tmp_path: Path):
    run = the_run(tmp_path, emulator)
    after = looks(emulator)

    code, undo = undo_json(str(run["run"]), "--dry-run")

    assert code == 0, undo
    assert undo["status"] == "planned"
    assert undo["counts"]["update"] == 8
    assert looks(emulator) == after
    [row] = [row for row in undo["rows"] if row["email"] == BOB]
    assert row["changes"]["email"] == [ROBERT, BOB]


def test_what_cannot_be_undone_is_said_in_words(acme, emulator, celery_worker, tmp_path: Path):
    run = the_run(tmp_path, emulator)

    code, _out, err = run_command("undo_run", str(run["run"]), "--email", "nobody@acme.example")
    assert code == 2
    assert f"Import {run['run']} changed no one with the email nobody@acme.example" in err

    code, _out, err = run_command("undo_run", "999999")
    assert code == 2
    assert "There is no run 999999." in err
    assert "Traceback" not in err

    code, preview = import_json(
        str(write_file(tmp_path, THE_FILE, "again.csv")), "--company", "acme", "--dry-run"
    )
    code, _out, err = run_command("undo_run", str(preview["run"]))
    assert code == 2
    assert "This import is a preview: it changed nothing" in err
