"""Stopping and resuming runs: a refused credential, cancel, retry of failed rows, two companies."""

import pytest
from django.db.models import Count

from imports import services
from imports.models import ImportRow, ImportRun
from tests.fixtures.emulator import GLOBEX_API_KEY
from tests.imports.runs.conftest import assert_every_row_final, import_json
from tests.imports.runs.files import DOMAIN, person
from tests.reliability.conftest import run_state, wait_for, wait_until_ended, write_file
from tests.reliability.test_crashes import start_run
from user2smart.companies.services import company_save

pytestmark = pytest.mark.integration


def test_a_refused_credential_stops_the_run_at_once_with_the_reason(
    bulk_acme, emulator, recovery, tmp_path
):
    recovery()
    emulator.faults(latency_ms=[30, 60])
    run_id = start_run(write_file(tmp_path, [person(i) for i in range(2000, 2300)]))
    wait_for(lambda: run_state(run_id).rows_done >= 30, 60, "30 rows done")

    emulator.revoke(api_key=emulator.api_key)  # an admin withdraws the key in SmartRecruiters

    run = wait_until_ended(run_id, timeout=30)
    assert run.status == "failed"
    assert "refused the company's credential" in run.error
    assert run.result == "X"
    skipped = ImportRow.objects.filter(run_id=run_id, status="skipped")
    assert skipped.count() > 100
    assert skipped.filter(message__contains="credential").count() == skipped.count()
    assert_every_row_final(run_id)


def test_cancel_skips_rows_not_yet_sent(bulk_acme, emulator, recovery, tmp_path):
    recovery()
    emulator.faults(latency_ms=[50, 80])
    run_id = start_run(write_file(tmp_path, [person(i) for i in range(2000, 2300)]))
    wait_for(lambda: run_state(run_id).rows_done >= 10, 60, "10 rows done")

    assert services.run_cancel(run_id=run_id)

    run = wait_until_ended(run_id, timeout=30)
    created = [
        u for u in emulator.users() if u["email"].endswith(DOMAIN) and int(u["email"][4:9]) >= 2000
    ]
    rows = dict(
        ImportRow.objects.filter(run_id=run_id).values_list("status").annotate(n=Count("pk"))
    )
    assert run.status == "cancelled"
    assert run.rows_skipped > 200, rows
    assert len(created) == run.rows_total - run.rows_skipped - run.rows_failed, (
        rows,
        list(
            ImportRow.objects.filter(run_id=run_id, status="skipped")
            .exclude(message="Not sent: the run was cancelled.")
            .values_list("line", "message")[:5]
        ),
    )
    assert_every_row_final(run_id)


def test_retry_sends_again_the_rows_that_failed_for_a_passing_reason(
    bulk_acme, emulator, recovery, tmp_path
):
    recovery(IMPORT_ROW_MAX_ATTEMPTS="2")
    rows = [person(i) for i in range(2000, 2020)] + [person(1, lastName="Fixed")]
    code, document = import_json(str(write_file(tmp_path, rows)), "--company", "acme", "--dry-run")
    assert code == 0
    emulator.faults(error_rate=1.0)  # every call fails from now on
    assert services.run_apply(run_id=document["run"])
    run = wait_until_ended(document["run"], timeout=60)
    assert (run.status, run.result, run.rows_failed) == ("finished", "X", 21)
    assert ImportRow.objects.filter(run=run, transient=True).count() == 21

    emulator.faults()
    assert services.run_retry_failed(run_id=run.pk) == 21

    run = wait_until_ended(run.pk, timeout=60)
    assert (run.status, run.result, run.rows_failed) == ("finished", "V", 0)
    assert emulator.user(f"user00001@{DOMAIN}")["lastName"] == "Fixed"
    new = {f"user{i:05d}@{DOMAIN}" for i in range(2000, 2020)}
    stats = emulator.stats()
    assert stats["creates_by_email"] == dict.fromkeys(new, 1)
    assert stats["create_conflicts_by_email"] == {}
    # Each create was sent under the errors (and did nothing), then sent again by the retry.
    assert stats["create_attempts_by_email"].keys() == new
    assert min(stats["create_attempts_by_email"].values()) >= 2
    assert_every_row_final(run.pk)


def test_retried_rows_whose_create_answer_was_lost_are_looked_up_not_created_again(
    bulk_acme, emulator, recovery, tmp_path
):
    recovery(IMPORT_ROW_MAX_ATTEMPTS="1")
    rows = [person(i, sendEmail="true") for i in range(2000, 2010)]
    code, document = import_json(str(write_file(tmp_path, rows)), "--company", "acme", "--dry-run")
    assert code == 0
    emulator.clear_stats()
    emulator.faults(create_then_timeout_rate=1.0, timeout_hold_ms=200)  # created, answer lost
    assert services.run_apply(run_id=document["run"])
    run = wait_until_ended(document["run"], timeout=60)
    assert (run.status, run.result, run.rows_failed) == ("finished", "X", 10)

    emulator.faults()
    assert services.run_retry_failed(run_id=run.pk) == 10

    run = wait_until_ended(run.pk, timeout=60)
    assert (run.status, run.result, run.rows_failed) == ("finished", "V", 0)
    new = {f"user{i:05d}@{DOMAIN}" for i in range(2000, 2010)}
    users = [emulator.user(email) for email in new]
    assert all(user["active"] for user in users)
    stats = emulator.stats()
    assert stats["create_attempts_by_email"] == dict.fromkeys(new, 1)  # none sent again
    assert stats["creates_by_email"] == dict.fromkeys(new, 1)
    assert stats["create_conflicts_by_email"] == {}
    assert stats["activation_emails_by_user"] == {user["id"]: 1 for user in users}
    assert_every_row_final(run.pk)


def test_two_companies_run_at_once_each_in_its_own_company(bulk_acme, emulator, recovery, tmp_path):
    recovery()
    globex = company_save(
        slug="globex", name="Globex", api_url=emulator.url, api_key=GLOBEX_API_KEY
    ).company
    acme_file = write_file(tmp_path, [person(i) for i in range(3000, 3060)], "acme.csv")
    globex_file = write_file(
        tmp_path, [person(i, email=f"g{i}@globex.example") for i in range(10)], "globex.csv"
    )

    acme_run = start_run(acme_file)
    from tests.imports.runs.conftest import run_command

    code, _out, err = run_command(
        "import_users", str(globex_file), "--company", "globex", "--no-wait"
    )
    assert code == 0, err
    globex_run = ImportRun.objects.get(company=globex)

    for run_id in (acme_run, globex_run.pk):
        assert wait_until_ended(run_id, timeout=120).result == "V"
        assert_every_row_final(run_id)
    assert len([u for u in emulator.users("globex") if u["email"].startswith("g")]) == 10
    assert not [u for u in emulator.users() if u["email"].endswith("@globex.example")]
