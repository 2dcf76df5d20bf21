"""`show_run`, `cancel_run` and `retry_run`, run as an operator runs them (a child process), with
real worker processes and the emulator where the command needs them."""

import json

import pytest

from imports import services
from tests.imports.runs.conftest import (
    SAMPLES,
    assert_every_row_final,
    import_json,
    run_command,
    write_file,
)
from tests.imports.runs.files import DOMAIN, person
from tests.imports.runs.test_lookup_commands import assert_one_line_error
from tests.reliability.conftest import run_state, wait_for, wait_until_ended

pytestmark = pytest.mark.integration


def command_json(*args: str) -> tuple[int, dict]:
    code, out, err = run_command(*args, "--json")
    assert out.strip(), err
    return code, json.loads(out)


def preview(*args: str) -> dict:
    """A run planned with `import_users --dry-run` (no worker needed): its document."""
    _code, document = import_json(*args, "--company", "acme", "--dry-run")
    return document


# show_run


def test_show_run_prints_the_document_import_users_printed(acme):
    document = preview(str(SAMPLES / "users-basic.csv"))

    code, shown = command_json("show_run", str(document["run"]))
    text_code, out, _err = run_command("show_run", str(document["run"]))

    assert (code, text_code) == (0, 0)
    assert shown == document
    assert out.splitlines()[0].startswith(f"Run {document['run']} (Planned): V  ")


def test_show_run_of_a_run_with_errors_exits_1_and_lists_them(acme):
    document = preview(str(SAMPLES / "errors.csv"))

    code, out, _err = run_command("show_run", str(document["run"]))

    assert code == 1
    assert "  line 5: " in out


def test_show_run_of_an_unknown_run(transactional_db):
    code, out, err = run_command("show_run", "999999")

    assert (code, out) == (2, "")
    assert_one_line_error(err, "There is no run 999999.")


def test_run_schedule_of_an_unknown_schedule(acme):
    code, out, err = run_command("run_schedule", "nope", "--company", "acme")

    assert (code, out) == (2, "")
    assert_one_line_error(err, "There is no schedule 'nope' in the company 'acme'.")


# cancel_run


def test_cancel_run_of_a_preview_discards_it(acme, emulator, celery_worker):
    run_id = preview(str(SAMPLES / "users-basic.csv"))["run"]
    emulator.clear_stats()

    code, cancelled = command_json("cancel_run", str(run_id))
    again, out, err = run_command("cancel_run", str(run_id))
    retried, _out, retry_err = run_command("retry_run", str(run_id))

    assert code == 0
    assert cancelled["status"] == "discarded"
    assert emulator.writes() == {}
    assert (again, out) == (2, "")
    assert_one_line_error(err, f"Run {run_id} cannot be cancelled: it has ended (discarded).")
    assert retried == 2
    assert_one_line_error(
        retry_err, f"Run {run_id} cannot be retried: it is a preview that was discarded."
    )
    assert emulator.writes() == {}


def test_cancel_run_stops_a_running_import(bulk_acme, emulator, celery_worker, tmp_path):
    emulator.faults(latency_ms=[50, 80])
    code, out, err = run_command(
        "import_users",
        str(write_file(tmp_path, [person(i) for i in range(2000, 2300)])),
        "--company",
        "acme",
        "--no-wait",
    )
    assert code == 0, err
    run_id = int(out)
    wait_for(lambda: run_state(run_id).rows_done >= 10, 60, "10 rows done")

    code, out, err = run_command("cancel_run", str(run_id))

    assert code == 1, err
    assert out.startswith(f"Run {run_id} (Cancelled): X  ")
    run = wait_until_ended(run_id, timeout=60)
    created = [u for u in emulator.users() if u["email"].endswith(DOMAIN)]
    assert run.status == "cancelled"
    assert run.rows_skipped > 100
    assert len(created) == 150 + run.rows_total - run.rows_skipped - run.rows_failed


# retry_run


def failed_for_a_passing_reason(emulator, tmp_path) -> int:
    """A run whose every row got no usable answer (with a worker that tries each row once)."""
    rows = [person(i) for i in range(2000, 2010)] + [person(1, lastName="Fixed")]
    run_id = preview(str(write_file(tmp_path, rows)))["run"]
    emulator.faults(error_rate=1.0)  # every call fails, from the first row sent
    assert services.run_apply(run_id=run_id)
    run = wait_until_ended(run_id)
    assert (run.status, run.rows_failed) == ("finished", 11)
    emulator.faults()
    emulator.clear_stats()
    return run_id


def test_retry_run_sends_the_failed_rows_again_and_waits_for_the_end(
    bulk_acme, emulator, start_worker, tmp_path
):
    start_worker(IMPORT_ROW_MAX_ATTEMPTS="1")
    run_id = failed_for_a_passing_reason(emulator, tmp_path)

    code, out, err = run_command("retry_run", str(run_id))

    assert code == 0, err
    assert out.splitlines()[0] == f"Run {run_id}: 11 rows sent again."
    assert out.splitlines()[1].startswith(f"Run {run_id} (Finished): V  ")
    assert emulator.user(f"user00001@{DOMAIN}")["lastName"] == "Fixed"
    assert emulator.stats()["create_attempts_by_email"] == {
        f"user{i:05d}@{DOMAIN}": 1 for i in range(2000, 2010)
    }
    assert_every_row_final(run_id)


def test_retry_run_without_a_worker_sends_nothing(bulk_acme, emulator, start_worker, tmp_path):
    worker = start_worker(IMPORT_ROW_MAX_ATTEMPTS="1")
    run_id = failed_for_a_passing_reason(emulator, tmp_path)
    worker.stop()

    code, out, err = run_command("retry_run", str(run_id))

    assert (code, out) == (2, "")
    assert "No worker is running" in err
    assert run_state(run_id).rows_failed == 11
    assert emulator.writes() == {}


def test_retry_run_when_no_row_failed_for_a_passing_reason(acme, celery_worker, tmp_path):
    path = write_file(tmp_path, [person(1), person(1, lastName="Again")])
    code, document = import_json(str(path), "--company", "acme", "--all-or-nothing")
    assert code == 2, document

    code, out, err = run_command("retry_run", str(document["run"]))

    assert (code, out) == (2, "")
    assert_one_line_error(
        err,
        f"Run {document['run']} cannot be retried: no row failed for a passing reason (rows "
        "with errors in the file must be fixed and uploaded again).",
    )


def test_retry_run_of_a_preview_or_an_unknown_run(acme):
    run_id = preview(str(SAMPLES / "users-basic.csv"))["run"]

    code, _out, err = run_command("retry_run", str(run_id))
    unknown, _out, unknown_err = run_command("retry_run", "999999")

    assert (code, unknown) == (2, 2)
    assert_one_line_error(
        err, f"Run {run_id} cannot be retried: it is a preview: apply it or discard it."
    )
    assert_one_line_error(unknown_err, "There is no run 999999.")
