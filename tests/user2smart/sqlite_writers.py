"""Run by `test_sqlite.py` in a process of its own, on a SQLite file (the demo's database).

Usage: python -m tests.user2smart.sqlite_writers EMULATOR_URL API_KEY CSV_FILE

A preview of CSV_FILE is planned in one thread (its rows need users read in full from a slow
SmartRecruiters); once the plan has read its first user in full, a second file is uploaded in the
main thread. Prints one JSON document: how the second upload went and where the first plan was
when it returned.
"""

from __future__ import annotations

import io
import json
import sys
import threading
import time

import django
import requests


def main(emulator_url: str, api_key: str, csv_path: str) -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import OperationalError, connection

    from imports.models import ImportRun
    from imports.services import run_plan, run_start
    from user2smart.companies.services import company_save

    call_command("migrate", verbosity=0)
    company = company_save(slug="acme", name="Acme", api_url=emulator_url, api_key=api_key).company
    content = open(csv_path, "rb").read()  # noqa: SIM115

    def upload(name: str) -> ImportRun:
        return run_start(
            company=company,
            file=io.BytesIO(content),
            file_name=name,
            mode="update",
            source=ImportRun.Source.COMMAND,
            dry_run=True,
            enqueue=False,
        )

    first = upload("first.csv")

    def plan() -> None:
        try:
            run_plan(run_id=first.pk)
        finally:
            connection.close()

    planner = threading.Thread(target=plan)
    planner.start()
    deadline = time.monotonic() + 60
    while not _full_reads(emulator_url):
        if time.monotonic() > deadline or not planner.is_alive():
            first.refresh_from_db()
            raise SystemExit(f"the plan never read a user in full: {first.status} {first.error}")
        time.sleep(0.02)
    try:
        upload("second.csv")
        second = "uploaded"
    except OperationalError as exc:
        second = str(exc)
    first_status = ImportRun.objects.get(pk=first.pk).status
    planner.join()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
    document = {
        "second_upload": second,
        "first_status_then": first_status,
        "first_status": ImportRun.objects.get(pk=first.pk).status,
        "journal_mode": journal,
    }
    sys.stdout.write(json.dumps(document) + "\n")


def _full_reads(emulator_url: str) -> int:
    stats = requests.get(f"{emulator_url}/_emulator/stats", timeout=5).json()
    return sum(stats["requests"].get("GET /users/{id}", {}).values())


if __name__ == "__main__":
    main(*sys.argv[1:4])
