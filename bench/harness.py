"""What the import benchmarks share: a database, the emulator, workers, and a finished run.

The product runs as in production: PostgreSQL (a fresh `user2smart_bench` database, or the
name in BENCH_DB, on BENCH_POSTGRES, default the local server), Redis at REDIS_URL, real
`celery worker` processes, and the SmartRecruiters emulator on a free loopback port.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://root@127.0.0.1:5432")
BENCH_DB = os.environ.get("BENCH_DB", "user2smart_bench")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django() -> None:
    """A fresh bench database, migrated; settings for this process and its children."""
    import psycopg
    from cryptography.fernet import Fernet

    with psycopg.connect(f"{BENCH_POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "user2smart.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DATABASE_URL": f"{BENCH_POSTGRES}/{BENCH_DB}",
            "CELERY_QUEUE": f"user2smart-bench-{os.getpid()}",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _control(url: str, name: str, body: dict | None = None, method: str = "POST") -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 (the local emulator)
        f"{url}/_emulator/{name}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        raw = response.read()
    return json.loads(raw) if raw else {}


class Emulator:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "user2smart.smartrecruiters.emulator",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.stats()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def reset(self, document: dict) -> None:
        _control(self.url, "reset", document)

    def faults(self, **faults: object) -> None:
        _control(self.url, "faults", faults)

    def stats(self) -> dict:
        return _control(self.url, "stats", method="GET")

    def state(self) -> dict:
        """The reset document as it is now (users in full, their ids and `updatedOn` kept)."""
        return _control(self.url, "state", method="GET")

    def clear_stats(self) -> None:
        _control(self.url, "stats", method="DELETE")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def company_doc(company_id: str, api_key: str, users: list[dict], rate_limit: dict | None) -> dict:
    return {
        "id": company_id,
        "name": company_id.title(),
        "api_keys": [api_key],
        "me": f"admin@{company_id}.example",
        "users": [
            {
                "email": f"admin@{company_id}.example",
                "firstName": "Ada",
                "lastName": "Admin",
                "systemRole": {"id": "ADMINISTRATOR"},
                "active": True,
            },
            *users,
        ],
        "rate_limit": rate_limit,
    }


def bench_user(i: int, domain: str, **fields: object) -> dict:
    return {
        "email": f"user{i:06d}@{domain}",
        "firstName": "User",
        "lastName": f"Number {i}",
        "systemRole": {"id": "EMPLOYEE"},
        "externalData": f"B{i:06d}",
        "language": {"code": "en"},
        "active": True,
        **fields,
    }


def bench_row(i: int, domain: str, **fields: str) -> dict:
    return {
        "email": f"user{i:06d}@{domain}",
        "firstName": "User",
        "lastName": f"Number {i}",
        "systemRoleId": "EMPLOYEE",
        "externalData": f"B{i:06d}",
        "languageCode": "en",
        "active": "true",
        "enabled": "true",
        **fields,
    }


def csv_file(rows: list[dict]) -> Path:
    import csv

    from imports.csvfile import COLUMNS

    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
        "w", suffix=".csv", delete=False, newline="", encoding="utf-8"
    )
    writer = csv.DictWriter(handle, COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in COLUMNS})
    handle.close()
    return Path(handle.name)


@contextlib.contextmanager
def workers(count: int = 2, concurrency: int = 8) -> Iterator[list[subprocess.Popen]]:
    from django.conf import settings

    processes = []
    logs = []
    for n in range(count):
        log = tempfile.NamedTemporaryFile(prefix=f"bench-worker-{n}-", suffix=".log", delete=False)  # noqa: SIM115
        logs.append(Path(log.name))
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "user2smart",
                    "worker",
                    "--pool=prefork",
                    f"--concurrency={concurrency}",
                    "-Q",
                    settings.CELERY_TASK_DEFAULT_QUEUE,
                    "-n",
                    f"bench{n}-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=WARNING",
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    _wait_ready(processes)
    # Beat, as in production: its dispatch tick sends rows whose wait is over (a row handed back
    # for lack of a rate-limit slot), its sweeper what was lost.
    beat_log = tempfile.NamedTemporaryFile(prefix="bench-beat-", suffix=".log", delete=False)  # noqa: SIM115
    logs.append(Path(beat_log.name))
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "user2smart",
            "beat",
            "--loglevel=WARNING",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--schedule",
            str(Path(tempfile.gettempdir()) / f"bench-beat-{uuid.uuid4().hex[:6]}"),
        ],
        cwd=ROOT,
        stdout=beat_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield processes
    finally:
        for process in [*processes, beat]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*processes, beat]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for log in logs:
            log.unlink(missing_ok=True)


def _wait_ready(processes: list[subprocess.Popen]) -> None:
    from django.conf import settings

    from user2smart.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.inspect(timeout=1.0).active_queues() or {}
        listening = [w for w, queues in replies.items() if any(q["name"] == queue for q in queues)]
        if len(listening) >= len(processes):
            return
    raise RuntimeError("the bench workers did not start")


def start_import(company, path: Path, mode: str = "upsert"):
    from imports import services
    from imports.models import ImportRun

    with path.open("rb") as handle:
        return services.run_start(
            company=company,
            file=handle,
            file_name=path.name,
            mode=mode,
            source=ImportRun.Source.COMMAND,
        )


def wait_finished(run, timeout: float = 3600, poll: float = 0.1) -> float:
    """Wait for the run to end; the time it ended (time.monotonic clock, within `poll`).

    One light query a poll: the benchmark's own reads must not take CPU from the workers.
    """
    from imports.models import ImportRun

    ended = ImportRun.objects.filter(pk=run.pk, finished_at__isnull=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ended.exists():
            run.refresh_from_db()
            return time.monotonic()
        time.sleep(poll)
    raise RuntimeError(f"run {run.pk} did not end in {timeout} s")
