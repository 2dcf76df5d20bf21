"""Workers killed mid-run and a Redis that loses every queued message: rows are only delayed."""

import pytest

from imports.models import ImportRow
from tests.fixtures.services import start_redis_server
from tests.imports.runs.conftest import assert_every_row_final, run_command
from tests.imports.runs.files import DOMAIN, person
from tests.reliability.conftest import run_state, wait_for, wait_until_ended, write_file

pytestmark = pytest.mark.integration

ROWS = 500


def new_people(count: int = ROWS, **fields: str) -> list[dict]:
    return [person(i, **fields) for i in range(1000, 1000 + count)]


def start_run(path, **env) -> int:
    code, out, err = run_command(
        "import_users", str(path), "--company", "acme", "--no-wait", "--json", **env
    )
    assert code == 0, err
    import json

    return json.loads(out)["run"]


def assert_file_applied_once(emulator, run_id: int, *, welcome: bool = False) -> None:
    """Every user of the file created exactly once, and no create sent for a user who exists;
    with `welcome` (the file asks for activation emails), at most one email per user."""
    assert_every_row_final(run_id)
    run = run_state(run_id)
    failed = list(
        ImportRow.objects.filter(run_id=run_id, status__in=["error", "skipped"]).values_list(
            "line", "status", "message"
        )[:5]
    )
    assert (run.status, run.result) == ("finished", "V"), (run.error, failed)
    wanted = {f"user{i:05d}@{DOMAIN}" for i in range(1000, 1000 + ROWS)}
    emails = {u["email"] for u in emulator.users() if u["email"].endswith(DOMAIN)}
    assert wanted <= emails
    stats = emulator.stats()
    assert stats["creates_by_email"] == dict.fromkeys(wanted, 1)
    # A create whose answer a crash lost is looked up before it is sent again: had it been sent
    # again, the emulator would have answered 409.
    assert stats["create_conflicts_by_email"] == {}
    sent = stats["activation_emails_by_user"]
    if not welcome:
        assert sent == {}  # the file asks for none
        return
    # A crash while an email is being sent leaves it unknown whether it went out: it is not sent
    # again, and the row says so.
    ids = {u["id"]: u["email"] for u in emulator.users() if u["email"] in wanted}
    assert set(sent) <= set(ids)
    assert set(sent.values()) == {1}
    unsure = ImportRow.objects.filter(run_id=run_id, message__contains="may not have gone out")
    assert {ids[i] for i in set(ids) - set(sent)} <= set(unsure.values_list("email", flat=True))


def test_a_worker_killed_twice_mid_run_loses_and_doubles_nothing(
    bulk_acme, emulator, recovery, start_worker, tmp_path
):
    from tests.reliability.conftest import SWEEP_ENV

    worker, _beat = recovery()
    emulator.faults(latency_ms=[20, 60])
    emulator.clear_stats()
    run_id = start_run(write_file(tmp_path, new_people(sendEmail="true")))

    stranded = []  # per kill, the rows the dead worker left `sending`
    for threshold in (80, 250):
        wait_for(lambda t=threshold: run_state(run_id).rows_done >= t, 120, f"{threshold} rows")
        worker.kill()
        stranded.append(ImportRow.objects.filter(run_id=run_id, status="sending").count())
        worker = start_worker(concurrency=8, **SWEEP_ENV)

    wait_until_ended(run_id, timeout=240)
    assert all(stranded), stranded  # each kill hit the run mid-way, with rows being sent
    assert_file_applied_once(emulator, run_id, welcome=True)


def test_a_redis_restart_that_loses_the_queue_only_delays_rows(
    bulk_acme, emulator, recovery, tmp_path
):
    process, url = start_redis_server()
    port = url.rsplit(":", 1)[1].split("/")[0]
    try:
        worker, _beat = recovery(REDIS_URL=url)
        # Errors make rows wait for their retry while Redis restarts (a worker that held them
        # as countdown messages exited then).
        emulator.faults(latency_ms=[20, 60], error_rate=0.1)
        emulator.clear_stats()
        run_id = start_run(write_file(tmp_path, new_people()), REDIS_URL=url)

        wait_for(lambda: run_state(run_id).rows_done >= 100, 120, "100 rows done")
        process.terminate()
        process.wait(10)
        process, _ = start_redis_server(int(port))

        # No worker is started again: the ones running before must survive the restart (they
        # hold no countdown message, whose restore made kombu's Redis transport exit) and
        # finish the run.
        def ended_with_the_same_worker() -> bool:
            assert worker.process.poll() is None, f"the worker exited:\n{worker.output()}"
            return run_state(run_id).finished_at is not None

        wait_for(ended_with_the_same_worker, 240, f"run {run_id} to end")
        assert_file_applied_once(emulator, run_id)
    finally:
        process.terminate()


def test_a_run_cancelled_while_its_worker_is_dead_still_ends(
    bulk_acme, emulator, recovery, start_worker, tmp_path
):
    from imports import services
    from tests.reliability.conftest import SWEEP_ENV

    worker, _beat = recovery()
    emulator.faults(latency_ms=[200, 300])  # rows spend most of their time being sent
    run_id = start_run(write_file(tmp_path, new_people(200)))
    wait_for(lambda: run_state(run_id).rows_done >= 10, 120, "10 rows done")
    worker.kill()  # its rows stay `sending`, with nobody to end them
    stranded = set(
        ImportRow.objects.filter(run_id=run_id, status="sending").values_list("pk", flat=True)
    )
    assert services.run_cancel(run_id=run_id)
    start_worker(concurrency=8, **SWEEP_ENV)

    run = wait_until_ended(run_id, timeout=60)

    assert run.status == "cancelled"
    assert_every_row_final(run_id)
    ended = ImportRow.objects.filter(pk__in=stranded)
    assert stranded
    assert {row.status for row in ended} <= {"done", "skipped"}
    for row in ended.filter(status="skipped"):
        assert row.message.startswith(("Not sent:", "Stopped part-way")), row.message
