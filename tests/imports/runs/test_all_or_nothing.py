"""`import_users --all-or-nothing`: a file with a bad row changes nothing, and says why, with
real worker processes and the emulator counting every call."""

import pytest

from imports.models import ImportRun
from tests.imports.runs.conftest import import_json, run_command, write_file
from tests.imports.runs.files import DOMAIN, person

pytestmark = pytest.mark.integration

MESSAGE = "Nothing was applied because 2 rows have errors; fix them or turn off 'all or nothing'."


def two_bad_rows(tmp_path):
    """Three new people, one of them twice, and one with a language that does not exist."""
    rows = [person(i) for i in range(3)]
    rows += [person(0, lastName="Again"), person(3, languageCode="klingon")]
    return write_file(tmp_path, rows)


def test_a_file_with_errors_is_not_applied_at_all(acme, emulator, celery_worker, tmp_path):
    emulator.clear_stats()

    code, document = import_json(
        str(two_bad_rows(tmp_path)), "--company", "acme", "--all-or-nothing"
    )

    assert code == 2, document
    assert (document["result"], document["status"], document["error"]) == ("X", "failed", MESSAGE)
    assert document["allOrNothing"] is True
    assert [row["status"] for row in document["rows"]] == ["skipped"] * 3 + ["error"] * 2
    assert document["rows"][0]["message"].startswith("Not sent: nothing was applied because")
    assert emulator.writes() == {}


def test_the_summary_says_first_why_nothing_was_applied(acme, emulator, celery_worker, tmp_path):
    code, out, err = run_command(
        "import_users", str(two_bad_rows(tmp_path)), "--company", "acme", "--all-or-nothing"
    )

    assert code == 2, err
    run = ImportRun.objects.get()
    assert out.splitlines()[0] == f"Run {run.pk}: X, {MESSAGE}"
    assert out.splitlines()[1].endswith("0 created, 0 updated, 0 unchanged")
    assert "(2 in the file, 3 not sent)" in out.splitlines()[2]
    assert "Stopped:" not in out
    assert emulator.writes() == {}


def test_without_the_flag_the_valid_rows_are_applied(acme, emulator, celery_worker, tmp_path):
    emulator.clear_stats()

    code, document = import_json(str(two_bad_rows(tmp_path)), "--company", "acme")

    assert code == 1, document
    assert document["allOrNothing"] is False
    assert emulator.stats()["create_attempts_by_email"] == {
        f"user{i:05d}@{DOMAIN}": 1 for i in range(3)
    }


def test_a_preview_with_the_flag_shows_the_plan(acme, emulator, tmp_path):
    code, document = import_json(
        str(two_bad_rows(tmp_path)), "--company", "acme", "--all-or-nothing", "--dry-run"
    )

    assert code == 1, document
    assert document["status"] == "planned"
    assert [row["action"] for row in document["rows"]] == ["create"] * 3 + ["error"] * 2
    assert ImportRun.objects.get().all_or_nothing is True
