"""Applying files with real worker processes against the emulator."""

import pytest

from imports.models import ImportRow, ImportRun
from tests.imports.runs.conftest import SAMPLES, import_json

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
