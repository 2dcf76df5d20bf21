"""Full sync: people missing from the file are deactivated, within a limit that holds, not fails.

Real runs (`import_users` in a child process, real worker processes) against the emulator;
what SmartRecruiters received is counted in the emulator's stats.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from imports import services
from imports.models import ImportRun
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import acme_company, default_state, make_users
from tests.imports.runs.conftest import import_json, run_command, write_file
from tests.imports.runs.files import DOMAIN, person

pytestmark = pytest.mark.integration

DEACTIVATE = "DELETE /users/{id}/activation"
KEEPER = "keeper@acme.example"  # the credential's own user
BOSS = "boss@acme.example"  # an administrator
VIP = "vip@acme.example"  # a protected address


def extra(email: str, i: int, *, role: str = "EMPLOYEE", active: bool = True) -> dict:
    return {
        "id": f"65ff000000000000000000{i:02x}",
        "email": email,
        "firstName": "Extra",
        "lastName": f"Person {i}",
        "systemRole": {"id": role},
        "language": {"code": "en"},
        "active": active,
    }


@pytest.fixture
def sixty(emulator, transactional_db):
    """Acme with 60 active bulk users, its credential's user, an administrator, a protected
    address and 62 inactive people, none of whom are in the files below."""
    acme = acme_company(rate_limit={"rps": 100, "concurrent": 8}, me=KEEPER)
    acme["users"] = [
        extra(KEEPER, 1, role="STANDARD"),
        extra(BOSS, 2, role="ADMINISTRATOR"),
        extra(VIP, 3),
        extra("left.long.ago@acme.example", 4, active=False),
        extra("left.too@acme.example", 5, active=False),
        *make_users(60, DOMAIN),
        # People who left long ago: inactive, never acted on, and enough of them that the
        # company's list takes two pages.
        *make_users(60, "left.example", active=False),
    ]
    for user in acme["users"]:
        user["updatedOn"] = "2025-06-01T08:00:00.000Z"  # last changed long before these runs
    emulator.reset(default_state(acme=acme))
    company = connect_acme(emulator, rps=100)
    company.protected_emails = f"{VIP}\n"
    company.save()
    return company


def deactivations(emulator) -> int:
    return sum(emulator.stats()["requests"].get(DEACTIVATE, {}).values())


def active(emulator, email: str) -> bool:
    return emulator.user(email)["active"]


def test_exactly_the_people_missing_from_the_file_are_deactivated(
    sixty, emulator, celery_worker, tmp_path: Path
):
    rows = [person(i) for i in range(60) if i not in (7, 21, 42)]
    emulator.clear_stats()

    code, document = import_json(
        str(write_file(tmp_path, rows)), "--company", "acme", "--missing", "deactivate"
    )

    assert code == 0, (document, celery_worker.output())
    missing = [row for row in document["rows"] if row["action"] == "deactivate"]
    assert [(row["line"], row["email"]) for row in missing] == [
        (None, f"user{i:05d}@{DOMAIN}") for i in (7, 21, 42)
    ]
    assert all(row["result"] == "OK" for row in missing)
    assert (document["counts"]["deactivate"], document["held"]) == (3, 0)
    assert document["leftAlone"] == {
        "the company's SmartRecruiters credential user": 1,
        "administrators": 1,
        "protected addresses": 1,
    }
    assert deactivations(emulator) == 3
    assert not active(emulator, f"user00021@{DOMAIN}")
    assert all(active(emulator, email) for email in (KEEPER, BOSS, VIP))
    run = ImportRun.objects.get(pk=document["run"])
    assert b"Deactivated: not in the file." in bytes(run.log_csv)


def test_a_truncated_file_holds_every_deactivation_and_allowing_applies_them(
    sixty, emulator, celery_worker, tmp_path: Path
):
    rows = [person(i, lastName=f"Renamed {i}") for i in range(5)]
    emulator.clear_stats()

    code, document = import_json(
        str(write_file(tmp_path, rows)), "--company", "acme", "--missing", "deactivate"
    )

    assert code == 1, (document, celery_worker.output())
    assert (document["result"], document["status"]) == ("X", "finished")
    assert (document["counts"]["update"], document["held"]) == (5, 55)
    assert document["deactivationLimit"] == 10
    assert deactivations(emulator) == 0
    assert emulator.user(f"user00003@{DOMAIN}")["lastName"] == "Renamed 3"
    run = ImportRun.objects.get(pk=document["run"])
    assert b"55 people are not in this file; the limit is 10. Nothing was deactivated." in bytes(
        run.log_csv
    )

    # One of them is deactivated by hand meanwhile: allowing does not fail on them.
    by_hand = emulator.user(f"user00030@{DOMAIN}")["id"]
    emulator.call("DELETE", f"/users/{by_hand}/activation").raise_for_status()
    emulator.clear_stats()
    sent = services.run_allow_deactivations(run_id=run.pk)

    assert sent == 54
    wait_until_ended(run)
    assert deactivations(emulator) == 54
    # The fresh look reads only who changed since the run: one page, not the 125 users' two.
    assert emulator.stats()["requests"]["GET /users"] == {"200": 1}
    assert not any(active(emulator, f"user{i:05d}@{DOMAIN}") for i in range(5, 60))
    assert all(active(emulator, email) for email in (KEEPER, BOSS, VIP))
    assert run.rows.get(sr_user_id=by_hand).message == "Already inactive in SmartRecruiters: " + (
        "nothing to do."
    )
    assert (run.result, run.held) == ("V", 0)


def test_a_run_may_be_allowed_more_deactivations_on_the_command_line(
    sixty, emulator, celery_worker, tmp_path: Path
):
    rows = [person(i) for i in range(5)]

    code, document = import_json(
        str(write_file(tmp_path, rows)),
        "--company",
        "acme",
        "--missing",
        "deactivate",
        "--allow-deactivations",
        "55",
    )

    assert code == 0, (document, celery_worker.output())
    assert (document["counts"]["deactivate"], document["held"]) == (55, 0)
    assert not active(emulator, f"user00059@{DOMAIN}")


def test_create_mode_cannot_deactivate_the_missing(sixty, tmp_path: Path):
    code, _out, err = run_command(
        "import_users",
        str(write_file(tmp_path, [person(0)])),
        "--company",
        "acme",
        "--mode",
        "create",
        "--missing",
        "deactivate",
    )

    assert code != 0
    assert "needs the Update or Create or update mode" in err
    assert not ImportRun.objects.exists()


def test_with_the_managed_scope_a_user_made_by_hand_stays(
    sixty, emulator, celery_worker, tmp_path: Path
):
    sixty.missing_managed_only = True
    sixty.save()
    first = [person(i, lastName=f"Managed {i}") for i in range(5)]
    code, document = import_json(str(write_file(tmp_path, first, "first.csv")), "--company", "acme")
    assert code == 0, document

    code, document = import_json(
        str(write_file(tmp_path, first[:4], "second.csv")),
        "--company",
        "acme",
        "--missing",
        "deactivate",
    )

    assert code == 0, (document, celery_worker.output())
    assert [row["email"] for row in document["rows"] if row["action"] == "deactivate"] == [
        f"user00004@{DOMAIN}"
    ]
    assert document["leftAlone"]["not managed by User2Smart"] == 55
    assert active(emulator, f"user00010@{DOMAIN}")


def wait_until_ended(run: ImportRun, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        run.refresh_from_db()
        if run.finished_at is not None:
            return
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.2)


def test_all_or_nothing_with_an_error_holds_nothing_back_to_allow_later(
    sixty, emulator, celery_worker, tmp_path: Path
):
    rows = [person(i, lastName=f"Renamed {i}") for i in range(5)]
    rows.append(person(70, languageCode="klingon"))
    emulator.clear_stats()

    code, document = import_json(
        str(write_file(tmp_path, rows)),
        "--company",
        "acme",
        "--missing",
        "deactivate",
        "--all-or-nothing",
    )

    assert code == 2, document
    assert (document["status"], document["held"]) == ("failed", 0)
    assert document["error"].startswith("Nothing was applied because 1 row has errors")
    missing = [row for row in document["rows"] if row["action"] == "deactivate"]
    assert len(missing) == 55
    assert {row["status"] for row in missing} == {"skipped"}
    assert emulator.writes() == {}
    # Nothing is left to allow: all or nothing means none of this run is ever applied.
    assert services.run_allow_deactivations(run_id=document["run"]) == 0
    assert emulator.writes() == {}
