"""The directory mirror: an unchanged person costs no call beyond the list page.

Planned in this process against the emulator over HTTP (previews), and applied by real worker
processes; every figure is a count of calls the emulator received.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.urls import reverse

from imports import exporting, services
from imports.models import ImportRun, MirroredUser, UserExport
from imports.services import planning
from imports.services.mirror import (
    FLUSH_EVERY,
    mirror_keep_answer,
    mirror_mark_stale,
    mirror_open,
    mirror_refresh,
    stamp,
)
from tests.fixtures.companies import connect_acme
from tests.fixtures.emulator import (
    ACME_API_KEY_LABEL,
    ACME_ID,
    GLOBEX_API_KEY,
    GLOBEX_ID,
    acme_company,
    default_state,
    make_users,
)
from tests.imports.runs.conftest import import_json, write_file
from tests.imports.runs.files import DOMAIN, csv_bytes, person
from user2smart.companies.services import company_save

pytestmark = pytest.mark.integration

PARIS = {"countryCode": "FR", "city": "Paris"}
READ_ONE = "GET /users/{id}"
CHANGED_OUTSIDE_WORDS = "changed in SmartRecruiters since the last import"


def located_state(n: int) -> dict:
    acme = acme_company(rate_limit={"rps": 1000, "concurrent": 8})
    acme["users"] = acme["users"] + make_users(n, DOMAIN, location=PARIS)
    return default_state(acme=acme)


@pytest.fixture
def located(emulator, transactional_db):
    """Acme with 2,000 bulk users in Paris; limits high so the test counts calls, not time."""
    emulator.reset(located_state(2000))
    return connect_acme(emulator, rps=1000)


def rows_in_paris(n: int, **changed: dict) -> list[dict]:
    """Rows 0..n-1 as the directory has them (in Paris); `changed`: fields by row number."""
    return [person(i, **{**PARIS, **changed.get(str(i), {})}) for i in range(n)]


def preview(company, rows: list[dict]) -> ImportRun:
    """Plan a file in this process, as `import_users --dry-run` does."""
    run = services.run_start(
        company=company,
        file=io.BytesIO(csv_bytes(rows)),
        file_name="people.csv",
        mode="update",
        source=ImportRun.Source.COMMAND,
        dry_run=True,
        enqueue=False,
    )
    services.run_plan(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.PLANNED, run.error
    return run


def calls(emulator) -> dict[str, int]:
    """The calls answered, by endpoint. A call refused with 429 (the emulator's concurrency
    count and the limiter's can differ by a few ms on a loaded machine) is made again after
    its back-off: that is the limiter's business, not what these tests count."""
    answered: dict[str, int] = {}
    for key, by_status in emulator.stats()["requests"].items():
        count = sum(n for status, n in by_status.items() if status != "429")
        if count:
            answered[key] = count
    return answered


def list_pages(n_users: int) -> int:
    return -(-n_users // 100)


def test_an_unchanged_file_planned_again_reads_no_user_record(located, emulator):
    rows = rows_in_paris(2000)
    directory_size = len(emulator.users())

    emulator.faults(latency_ms=10)  # so that reads made at once overlap
    emulator.clear_stats()
    first = preview(located, rows)
    cold = calls(emulator)
    in_flight = emulator.stats()["credentials"][ACME_API_KEY_LABEL]["max_concurrency"]
    emulator.clear_stats()
    second = preview(located, rows)
    warm = calls(emulator)

    assert first.count_unchanged == second.count_unchanged == 2000
    assert cold[READ_ONE] == 2000
    assert in_flight > 1  # a cold mirror is filled several reads at a time
    assert warm == {
        "GET /users": list_pages(directory_size),
        "GET /system-roles": 1,
        "GET /access-groups": 1,
    }
    assert MirroredUser.objects.filter(company=located).count() == directory_size


def test_a_user_changed_in_smartrecruiters_is_read_again_and_planned(located, emulator):
    rows = rows_in_paris(300)
    preview(located, rows)
    moved = emulator.user(f"user00007@{DOMAIN}")
    answer = emulator.call(
        "PATCH",
        f"/users/{moved['id']}",
        json=[{"op": "replace", "path": "/location/city", "value": "Lyon"}],
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert answer.status_code == 200, answer.text

    emulator.clear_stats()
    run = preview(located, rows)

    assert calls(emulator)[READ_ONE] == 1
    row = run.rows.get(email=f"user00007@{DOMAIN}")
    assert row.action == "update"
    assert row.changes["location"][1]["city"] == "Paris"
    assert CHANGED_OUTSIDE_WORDS in row.message
    assert run.count_update == 1


def test_a_change_that_does_not_move_updated_on_waits_for_the_full_re_read(located, emulator):
    rows = rows_in_paris(300)
    preview(located, rows)
    emulator.freeze_updated_on("location")
    moved = emulator.user(f"user00011@{DOMAIN}")
    emulator.call(
        "PATCH",
        f"/users/{moved['id']}",
        json=[{"op": "replace", "path": "/location/city", "value": "Lyon"}],
        headers={"Content-Type": "application/json-patch+json"},
    ).raise_for_status()

    missed = preview(located, rows)
    emulator.clear_stats()
    read = mirror_refresh(company=located)
    refreshed = calls(emulator)
    caught = preview(located, rows)

    assert missed.count_update == 0  # SmartRecruiters gave no sign of the change
    assert read == refreshed[READ_ONE] == len(emulator.users())
    assert caught.count_update == 1
    assert caught.rows.get(action="update").email == f"user00011@{DOMAIN}"


def test_after_a_run_the_same_file_plans_nothing_and_reads_no_record(
    located, emulator, celery_worker, tmp_path: Path
):
    moves = {"3": {"lastName": "Renamed"}, "4": {"countryCode": "DE", "city": "Berlin"}}
    rows = rows_in_paris(200, **moves)
    path = write_file(tmp_path, rows)
    code, document = import_json(str(path), "--company", "acme", "--mode", "update")
    assert code == 0, (document, celery_worker.output())
    assert document["counts"]["update"] == 2

    emulator.clear_stats()
    again = preview(located, rows)

    assert again.count_update == again.count_create == again.count_error == 0
    assert READ_ONE not in calls(emulator)
    assert CHANGED_OUTSIDE_WORDS not in " ".join(again.rows.values_list("message", flat=True))


def test_a_write_that_answers_no_user_makes_the_next_plan_read_it_once(
    located, emulator, celery_worker, tmp_path: Path
):
    rows = rows_in_paris(50)
    rows[5].update(active="false", enabled="false")
    code, document = import_json(
        str(write_file(tmp_path, rows)), "--company", "acme", "--mode", "update"
    )
    assert code == 0, (document, celery_worker.output())

    rows[5]["lastName"] = "Renamed"
    emulator.clear_stats()
    again = preview(located, rows)

    assert calls(emulator)[READ_ONE] == 1  # the deactivated user, once
    assert again.count_update == 1
    # updatedOn moved because of our own deactivation: not a change made outside User2Smart.
    assert CHANGED_OUTSIDE_WORDS not in again.rows.get(action="update").message


def export_complete(company) -> list[dict[str, str]]:
    """An Export users with Complete, made in this process as a worker makes it."""
    export = UserExport.objects.create(company=company, complete=True)
    exporting.export_run(export.pk)
    export.refresh_from_db()
    assert export.status == UserExport.Status.FINISHED, export.error
    content = exporting.export_take(export=export)
    assert content is not None
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_a_second_complete_export_reads_only_the_list(located, emulator):
    directory_size = len(emulator.users())
    emulator.clear_stats()
    first = export_complete(located)
    cold = calls(emulator)
    emulator.clear_stats()
    second = export_complete(located)
    warm = calls(emulator)

    assert cold[READ_ONE] == directory_size
    assert warm == {"GET /users": list_pages(directory_size)}
    assert first == second
    bulk = [row for row in second if row["email"].endswith(DOMAIN)]
    assert len(bulk) == 2000
    assert all((row["countryCode"], row["city"]) == ("FR", "Paris") for row in bulk)


def test_the_mirror_holds_no_file_data_and_no_other_company(
    located, emulator, celery_worker, tmp_path: Path
):
    secret = "Sup3r-Secret-Passw0rd!"
    rows = [person(9000, password=secret, countryCode="FR", city="Paris")]
    code, document = import_json(
        str(write_file(tmp_path, rows)), "--company", "acme", "--mode", "upsert"
    )
    assert code == 0, (document, celery_worker.output())

    globex = company_save(
        slug="globex", name="Globex", api_url=emulator.url, api_key=GLOBEX_API_KEY
    ).company
    preview(globex, [person(0)])  # reads Globex's own directory, with its own credential

    stored = list(MirroredUser.objects.filter(company=located).values_list("record", flat=True))
    assert stored
    assert all(secret not in str(record) for record in stored)
    for company, company_id in ((located, ACME_ID), (globex, GLOBEX_ID)):
        ids = set(MirroredUser.objects.filter(company=company).values_list("user_id", flat=True))
        assert ids == {user["id"] for user in emulator.users(company_id)}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2021-07-27T10:10:58.100Z", "2021-07-27T10:10:58.100Z"),
        ("2021-07-27T10:10:58.1Z", "2021-07-27T10:10:58.100Z"),
        ("2021-07-27T12:10:58.100+02:00", "2021-07-27T10:10:58.100Z"),
        ("2021-07-27T10:10:58Z", "2021-07-27T10:10:58.000Z"),
        ("not a date", ""),
        (None, ""),
    ],
)
def test_one_version_of_a_user_has_one_stamp_however_it_is_written(written, expected):
    assert stamp({"updatedOn": written}) == expected


def test_an_operator_has_a_company_read_again_in_full_from_the_admin(
    located, emulator, celery_worker, admin_client
):
    preview(located, rows_in_paris(10))
    size = len(emulator.users())
    person = MirroredUser.objects.get(company=located, email=f"user00003@{DOMAIN}")
    emulator.clear_stats()

    answer = admin_client.post(
        reverse("admin:imports_mirroreduser_changelist"),
        {"action": "reread_directory", "_selected_action": [person.pk]},
        follow=True,
    )

    assert "Reading again in full, in the background: Acme Demo" in answer.content.decode()
    deadline = time.monotonic() + 60
    while MirroredUser.objects.filter(company=located, full_read_at__isnull=True).exists():
        assert time.monotonic() < deadline, celery_worker.output()
        time.sleep(0.2)
    assert calls(emulator)[READ_ONE] == size


def test_copies_read_while_a_plan_stores_its_rows_wait_for_its_commit(located):
    """A plan stores its rows in one transaction; copies flushed inside it would hold locks
    that a row worker writing the same user's copy would wait on until the plan commits."""
    mirror = mirror_open(company_id=located.pk, advance=False)
    entities = [
        {"id": f"u{i:04d}", "email": f"u{i}@x.example", "updatedOn": "2026-01-01T00:00:00.000Z"}
        for i in range(FLUSH_EVERY + 100)
    ]
    with transaction.atomic():
        for entity in entities:
            mirror.full(entity)
        assert not MirroredUser.objects.filter(company=located).exists()
    mirror.flush()

    assert MirroredUser.objects.filter(company=located).count() == len(entities)


# Readers and writers at once: the "changed outside" baseline --------------------------------

U0, U1 = "2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z"


def answer(on: str, city: str = "Paris") -> dict:
    return {
        "id": "x1",
        "email": "x@ex.example",
        "updatedOn": on,
        "location": {"countryCode": "FR", "city": city},
    }


def listed(on: str) -> dict:
    return {"id": "x1", "email": "x@ex.example", "updatedOn": on}


def test_an_export_during_a_run_does_not_undo_the_baseline_of_our_patch(located):
    mirror_keep_answer(company_id=located.pk, entity=answer(U0))
    export = mirror_open(company_id=located.pk, advance=False)  # opened before the PATCH
    mirror_keep_answer(company_id=located.pk, entity=answer(U1, "Lyon"))
    export.seen(listed(U1))
    export.flush()

    nightly = mirror_open(company_id=located.pk, advance=True)
    assert not nightly.seen(listed(U1)).changed_outside


def test_an_export_during_a_run_does_not_undo_the_mark_of_our_activation(located):
    mirror_keep_answer(company_id=located.pk, entity=answer(U0))
    export = mirror_open(company_id=located.pk, advance=False)
    mirror_mark_stale(company_id=located.pk, user_id="x1")  # before activating
    export.seen(listed(U1))  # the activation moved updatedOn
    export.flush()

    nightly = mirror_open(company_id=located.pk, advance=True)
    assert not nightly.seen(listed(U1)).changed_outside


def test_a_write_of_ours_that_moved_nothing_does_not_hide_the_next_manual_edit(located):
    mirror_keep_answer(company_id=located.pk, entity=answer(U0))
    mirror_mark_stale(company_id=located.pk, user_id="x1")  # the activation then failed
    first = mirror_open(company_id=located.pk, advance=True)
    first.seen(listed(U0))
    first.flush()
    first.settle()

    second = mirror_open(company_id=located.pk, advance=True)
    assert second.seen(listed(U1)).changed_outside


def test_a_real_run_whose_file_fails_keeps_the_baseline(located, emulator, settings):
    rows = rows_in_paris(300)
    preview(located, rows)
    edited = emulator.user(f"user00007@{DOMAIN}")
    emulator.call(
        "PATCH",
        f"/users/{edited['id']}",
        json=[{"op": "replace", "path": "/lastName", "value": "Edited by hand"}],
        headers={"Content-Type": "application/json-patch+json"},
    ).raise_for_status()
    settings.IMPORT_MAX_ROWS = 100  # the nightly file is refused
    run = services.run_start(
        company=located,
        file=io.BytesIO(csv_bytes(rows)),
        file_name="people.csv",
        mode="update",
        source=ImportRun.Source.COMMAND,
        enqueue=False,
    )
    services.run_plan(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    settings.IMPORT_MAX_ROWS = 100_000

    again = preview(located, rows)

    assert CHANGED_OUTSIDE_WORDS in again.rows.get(email=f"user00007@{DOMAIN}").message


def test_a_plan_stopped_by_its_time_limit_keeps_what_it_read(located, monkeypatch):
    store = planning._store_plan

    def stopped(run, planned, **options):
        def rows():
            for number, row in enumerate(planned):
                if number == 1500:
                    raise SoftTimeLimitExceeded()
                yield row

        store(run, rows(), **options)

    monkeypatch.setattr(planning, "_store_plan", stopped)
    run = services.run_start(
        company=located,
        file=io.BytesIO(csv_bytes(rows_in_paris(2000))),
        file_name="people.csv",
        mode="update",
        source=ImportRun.Source.COMMAND,
        dry_run=True,
        enqueue=False,
    )
    with pytest.raises(SoftTimeLimitExceeded):
        services.run_plan(run_id=run.pk)

    kept = MirroredUser.objects.filter(company=located, full_read_at__isnull=False).count()
    assert kept >= 1500
