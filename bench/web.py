"""Benchmark: the web pages' heavy moments, through Django's test client.

    .venv/bin/python bench/web.py [--database postgres|sqlite|both] [--rows 100000]

1. The upload POST of a generated file (100,000 rows, ~18 MB): the multipart body is built
   once, so the figure is the server's side (parse, store the file, create the run).
2. The progress endpoint (htmx, every second on the run page) while a 100,000-row run is
   sending at the company's 10 req/s with a real worker: time per GET, SQL queries per GET,
   and whether any query reads the rows table.
3. Once that run is cancelled: the run page and its "Errors only" rows (100,000 rows in the
   table, 50 shown).

PostgreSQL: a fresh `user2smart_bench` database (as `bench/harness.py`); SQLite: a file in a
temporary folder. Redis at REDIS_URL; the emulator on a free loopback port. Prints figures.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

API_KEY = "bench-web-key-not-a-secret"
DOMAIN = "web.example"
BOUNDARY = "BenchWebBoundary"


def setup(database: str, folder: Path) -> None:
    """Django against a fresh database of the kind asked for, migrated."""
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    if database == "postgres":
        harness.setup_django()
        return
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "user2smart.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "CELERY_QUEUE": f"user2smart-bench-{os.getpid()}",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def rows_file(count: int) -> Path:
    """New users with a full location: about 177 bytes a row, like a real HR extract."""
    rows = [
        harness.bench_row(
            i,
            DOMAIN,
            ssoIdentifier=f"sso-{i:06d}",
            countryCode="FR",
            city="Paris",
            region="Île-de-France",
            address=f"{i % 300 + 1} avenue des Champs-Élysées, bâtiment B, 3e étage",
            postalCode="75008",
            sendEmail="false",
        )
        for i in range(count)
    ]
    return harness.csv_file(rows)


def timed(call: Callable[[], object], rounds: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return times, result


def summary(times: list[float], unit: str = "ms") -> str:
    scale = 1000 if unit == "ms" else 1
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {scale * statistics.median(ordered):.{3 if unit == 's' else 1}f} {unit}, "
        f"min {scale * ordered[0]:.{3 if unit == 's' else 1}f}, "
        f"p95 {scale * p95:.{3 if unit == 's' else 1}f}, "
        f"max {scale * ordered[-1]:.{3 if unit == 's' else 1}f} ({len(ordered)} requests)"
    )


def wait_status(run, *statuses: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in statuses:
            return
        time.sleep(0.1)
    raise RuntimeError(f"run {run.pk} is {run.status}, not {statuses}, after {timeout} s")


def bench(database: str, rows: int, uploads: int, polls: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-web-") as folder:
        setup(database, Path(folder))
        emulator = harness.Emulator()
        try:
            browser = signed_in_browser(emulator)
            body = upload_body(rows)
            print(f"{database}: upload POST of {rows:,} rows, {len(body) / 1_000_000:.1f} MB")
            run_id = time_uploads(browser, body, uploads)
            with harness.workers(1, 2):
                print(f"{database}: progress endpoint during a {rows:,}-row run")
                time_progress(browser, run_id, polls)
            print(f"{database}: pages of the cancelled run ({rows:,} rows in the table)")
            time_pages(browser, run_id)
            if database == "postgres":
                vacuum()
                print(f"{database}: the same pages after VACUUM ANALYZE of the rows table")
                time_pages(browser, run_id)
        finally:
            emulator.stop()


def signed_in_browser(emulator: harness.Emulator):
    """A test client signed in as the administrator of a company connected to the emulator."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from user2smart.companies.models import Membership
    from user2smart.companies.services import company_save

    emulator.reset({"companies": [harness.company_doc("web", API_KEY, [], None)]})
    company = company_save(slug="web", name="Web", api_url=emulator.url, api_key=API_KEY).company
    admin = get_user_model().objects.create_user(username="bench.admin", first_name="Bench")
    Membership.objects.create(user=admin, company=company)
    browser = Client()
    browser.force_login(admin)
    return browser


def upload_body(rows: int) -> bytes:
    """The New import form's multipart body (preview off), built once."""
    from django.test.client import encode_multipart

    path = rows_file(rows)
    upload = io.BytesIO(path.read_bytes())
    path.unlink()
    upload.name = "bench-users.csv"
    fields = {"mode": "upsert", "preview": ""}
    fields |= {name: "auto" for name in ("header", "delimiter", "quotechar", "encoding")}
    return encode_multipart(BOUNDARY, {"file": upload, **fields})


def time_uploads(browser, body: bytes, uploads: int) -> int:
    """Time the upload POSTs; keep only the run of one more, for the next measures."""
    from imports.models import ImportRun

    def post() -> int:
        response = browser.post(
            "/imports/new/",
            data=body,
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
            secure=True,
        )
        assert response.status_code == 302, response.status_code
        return int(response["Location"].rstrip("/").rsplit("/", 1)[1])

    times, _ = timed(post, uploads)
    print(f"  {summary(times, 's')}")
    ImportRun.objects.all().delete()  # planned by nobody: their tasks find no run
    return post()


def time_progress(browser, run_id: int, polls: int) -> None:
    """The run page's live part while the worker sends rows; then the run is cancelled."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from imports import services
    from imports.models import ImportRow, ImportRun

    run = ImportRun.objects.get(pk=run_id)
    wait_status(run, ImportRun.Status.RUNNING, ImportRun.Status.FAILED)
    assert run.status == ImportRun.Status.RUNNING, run.error
    url = f"/imports/{run_id}/progress/?status=running"

    def poll() -> None:
        response = browser.get(url, HTTP_HX_REQUEST="true", secure=True)
        assert response.status_code == 200, response.status_code

    timed(poll, 10)  # warm up: connections, templates
    times, _ = timed(poll, polls)
    with CaptureQueriesContext(connection) as queries:
        poll()
    rows_table = ImportRow._meta.db_table
    reads_rows = any(rows_table in query["sql"] for query in queries.captured_queries)
    print(f"  {summary(times)}")
    print(f"  {len(queries.captured_queries)} SQL queries a GET; reads {rows_table}: {reads_rows}")
    run.refresh_from_db()
    print(f"  rows done meanwhile: {run.rows_done:,} of {run.rows_total:,}")
    services.run_cancel(run_id=run.pk)
    deadline = time.monotonic() + 600
    while run.finished_at is None and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()


def time_pages(browser, run_id: int) -> None:
    """The run page and its "Errors only" rows: time, and the slowest SQL query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for name, page in (
        ("run page", f"/imports/{run_id}/"),
        ("Errors only rows", f"/imports/{run_id}/rows/?show=errors"),
    ):

        def get(page: str = page) -> None:
            response = browser.get(page, secure=True)
            assert response.status_code == 200, response.status_code

        timed(get, 3)
        times, _ = timed(get, 20)
        with CaptureQueriesContext(connection) as queries:
            get()
        slowest = max(queries.captured_queries, key=lambda query: float(query["time"]))
        print(f"  {name}: {summary(times)}")
        print(
            f"    {len(queries.captured_queries)} SQL queries; the slowest "
            f"{1000 * float(slowest['time']):.1f} ms: {slowest['sql'][:200]}"
        )


def vacuum() -> None:
    from django.db import connection

    from imports.models import ImportRow

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {ImportRow._meta.db_table}")


def main() -> None:
    warnings.filterwarnings("ignore", "No directory at")  # no collectstatic here
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--database", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--uploads", type=int, default=5, help="upload POSTs timed")
    parser.add_argument("--polls", type=int, default=300, help="progress GETs timed")
    args = parser.parse_args()
    if args.database == "both":
        # One process per database: Django is set up once per process.
        for database in ("postgres", "sqlite"):
            command = [sys.executable, __file__, "--database", database]
            command += ["--rows", str(args.rows), "--uploads", str(args.uploads)]
            command += ["--polls", str(args.polls)]
            subprocess.run(command, check=True)
        return
    bench(args.database, args.rows, args.uploads, args.polls)


if __name__ == "__main__":
    main()
