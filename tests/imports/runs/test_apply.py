"""Applying files with real worker processes against the emulator."""

import pytest

from imports.models import ImportRow, ImportRun
from tests.imports.runs.conftest import SAMPLES, import_json, run_command, write_file
from tests.imports.runs.files import person

pytestmark = pytest.mark.integration


def test_the_basic_sample_is_applied_as_planned(acme, emulator, celery_worker):
    emulator.clear_stats()

    code, document = import_json(str(SAMPLES / "users-basic.csv"), "--company", "acme")

    assert code == 0, (document, celery_worker.output())
    assert (document["result"], document["status"]) == ("V", "finished")
    alice = emulator.user("alice.martin@acme.example")
    assert alice["lastName"] == "Martin-Durand"
    nadia = emulator.user("new.hire1@acme.example")
    assert (nadia["active"], nadia["firstName"], nadia["location"]["city"]) == (
        True,
        "Nadia",
        "London",
    )
    tomasz = emulator.user("new.hire2@acme.example")
    assert tomasz["active"] is False
    assert tomasz["systemRole"]["id"] == "64b7f0c2a1d3e4f5a6b7c8d9"
    assert {group["id"] for group in tomasz["accessGroups"]} == {
        "60497fe33e2b74a609b7e412",
        "60497fe33e2b74a609b7e410",
    }
    assert emulator.user("new.hire3@acme.example")["active"] is False
    assert emulator.user("carla.ruiz@acme.example")["active"] is True
    stats = emulator.stats()
    assert stats["activation_emails"] == {
        "new.hire1@acme.example": 1,
        "new.hire2@acme.example": 1,
    }
    assert all(count == 1 for count in stats["creates_by_email"].values())
    assert len(stats["creates_by_email"]) == 4
    # Bob is unchanged: nothing was sent about him.
    bob_id = emulator.user("bob.keller@acme.example")["id"]
    assert not [k for k in stats["requests"] if bob_id in k]
    run = ImportRun.objects.get(pk=document["run"])
    assert run.rows_done == run.rows_total == 7
    assert b"Alice Martin-Durand" in bytes(run.log_csv)
    assert not ImportRow.objects.filter(run=run).exclude(payload="").exists()


def test_an_email_change_patches_the_email(acme, emulator, celery_worker):
    code, document = import_json(str(SAMPLES / "email-change.csv"), "--company", "acme")

    assert code == 0, document
    assert emulator.user("alice.martin@acme.example") is None
    assert emulator.user("alice.m@acme.example")["lastName"] == "Martin"


def test_the_summary_after_a_run_says_what_was_done_and_counts_a_refused_row_as_an_error(
    acme, emulator, celery_worker, tmp_path
):
    """SmartRecruiters refuses the second new person (409: Bob's SSO identifier is taken)."""
    rows = [
        person(1, email="new.one@acme.example"),
        person(2, email="new.two@acme.example", ssoIdentifier="bkeller"),
    ]
    file = write_file(tmp_path, rows)

    _, preview, _ = run_command("import_users", str(file), "--company", "acme", "--dry-run")
    _, document = import_json(str(file), "--company", "acme", "--dry-run")
    code, out, err = run_command("import_users", str(file), "--company", "acme")

    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].endswith(": X  1 created, 0 updated, 0 unchanged"), out
    assert lines[1] == "2 of 2 rows processed: 1 done, 1 error (1 refused or failed when sent)"
    assert "to create" not in out
    assert preview.splitlines()[0].endswith(
        ": V  2 to create, 0 to update, 0 unchanged, 0 with errors"
    ), preview
    # A preview says what it will do, and has done nothing yet.
    assert document["totals"] == {
        "rows": 2,
        "processed": 0,
        "done": 0,
        "errors": 0,
        "fileErrors": 0,
        "failedWhenSent": 0,
        "notSent": 0,
        "held": 0,
    }


def test_the_json_of_a_run_counts_processed_done_and_errors(
    acme, emulator, celery_worker, tmp_path
):
    rows = [
        person(1, email="new.one@acme.example"),
        person(2, email="new.two@acme.example", ssoIdentifier="bkeller"),
        person(3, email="bad.language@acme.example", languageCode="klingon"),
    ]

    code, document = import_json(str(write_file(tmp_path, rows)), "--company", "acme")

    assert code == 1
    assert document["counts"]["create"] == 2  # the plan, as before
    assert document["totals"] == {
        "rows": 3,
        "processed": 3,
        "done": 1,
        "errors": 2,
        "fileErrors": 1,
        "failedWhenSent": 1,
        "notSent": 0,
        "held": 0,
    }
    assert document["doneByAction"] == {"create": 1, "update": 0, "unchanged": 0, "deactivate": 0}
