"""`make demo`: the whole service on one machine, against the bundled SmartRecruiters emulator.

Migrates the SQLite default, creates a demo admin (a new password at every start, printed),
starts the emulator seeded with a demo company, then the web server, a worker and beat. Ctrl-C
stops everything. Data lives in `demo-data/` and `db.sqlite3`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "demo-data"
DEMO_API_KEY = "demo-emulator-api-key"  # a key of the local emulator only
DEMO_COMPANY = "demo"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback URL we built)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"demo: {url} did not answer in {timeout:.0f} s.")


class Demo:
    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []
        DATA.mkdir(exist_ok=True)

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = (DATA / f"{name}.log").open("ab")
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and modules)
            [sys.executable, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        self.children.append(child)
        return child

    def stop(self, *_: object) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        raise SystemExit(0)

    def ensure_redis(self) -> None:
        url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        parts = urlsplit(url)
        if _port_open(parts.hostname or "127.0.0.1", parts.port or 6379):
            os.environ["REDIS_URL"] = url
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit(
                "demo: Redis is not running and not installed: sudo apt-get install redis-server"
            )
        port = _free_port()
        child = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(DATA),
            ],
            stdout=subprocess.DEVNULL,
        )
        self.children.append(child)
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", port):
            if time.monotonic() > deadline:
                raise SystemExit("demo: a private redis-server could not be started.")
            time.sleep(0.1)

    def run(self) -> None:
        from user2smart.demo_seed import SIGNIN_APP_ID, SIGNIN_APP_SECRET

        os.environ.setdefault("DJANGO_DEBUG", "true")
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "user2smart.settings")
        web_port = int(os.environ.get("DEMO_PORT", "8000"))
        if _port_open("127.0.0.1", web_port):
            raise SystemExit(f"demo: port {web_port} is taken; run with DEMO_PORT=8080 make demo")
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.ensure_redis()
        (DATA / "redis-url").write_text(os.environ["REDIS_URL"])
        self.emulator_port = int(os.environ.get("DEMO_EMULATOR_PORT", "8001"))
        if _port_open("127.0.0.1", self.emulator_port):
            self.emulator_port = _free_port()
        # "Sign in with SmartRecruiters" goes to the emulator's sign-in page.
        os.environ["SMARTRECRUITERS_SIGNIN_CLIENT_ID"] = SIGNIN_APP_ID
        os.environ["SMARTRECRUITERS_SIGNIN_CLIENT_SECRET"] = SIGNIN_APP_SECRET
        os.environ["SMARTRECRUITERS_SIGNIN_URL"] = f"http://127.0.0.1:{self.emulator_port}"

        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        username, password = self.demo_admin()
        emulator_url, access_key = self.start_emulator()
        sample = write_sample_file(DATA / "sample-users.csv")

        self.spawn(
            "worker",
            "-m",
            "celery",
            "-A",
            "user2smart",
            "worker",
            "--loglevel=INFO",
            "--concurrency=4",
            "--without-gossip",
            "--without-mingle",
        )
        self.spawn(
            "beat",
            "-m",
            "celery",
            "-A",
            "user2smart",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(DATA / "celerybeat-schedule"),
        )
        self.spawn("web", "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload")
        _wait_http(f"http://127.0.0.1:{web_port}/healthz")

        site = f"http://127.0.0.1:{web_port}"
        lines = [
            "",
            "User2Smart demo is running (Ctrl-C stops it).",
            f"  Site:      {site}/",
            f"  Admin:     {site}/admin/   login: {username}   password: {password}",
            f"  Health:    {site}/healthz",
            f"  Emulated SmartRecruiters: {emulator_url} (company '{DEMO_COMPANY}')",
            f"  Sign in with SmartRecruiters: access key {access_key}, then pick "
            "hr.admin@acme.example",
            f"  Sample file: {sample}  (import it: make demo-import)",
            f"  Logs:      {DATA}/*.log",
            "",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
        while True:
            for child in self.children:
                if child.poll() is not None:
                    sys.stderr.write(f"demo: a process stopped ({child.args[1:4]}); see {DATA}\n")
                    self.stop()
            time.sleep(1)

    def demo_admin(self) -> tuple[str, str]:
        from django.contrib.auth import get_user_model

        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"email": "admin@demo.example"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return user.username, password

    def start_emulator(self) -> str:
        from user2smart.companies.models import Membership
        from user2smart.companies.services import company_issue_access_key, company_save
        from user2smart.demo_seed import seed_emulator

        port = self.emulator_port
        state = DATA / "emulator.json"
        self.spawn(
            "emulator",
            "-m",
            "user2smart.smartrecruiters.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--state",
            str(state),
        )
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/_emulator/stats")
        seed_emulator(url, api_key=DEMO_API_KEY, only_if_empty=True)
        saved = company_save(slug=DEMO_COMPANY, name="Acme Demo", api_url=url, api_key=DEMO_API_KEY)
        from django.contrib.auth import get_user_model

        admin = get_user_model().objects.get(username="admin")
        Membership.objects.get_or_create(user=admin, company=saved.company)
        return url, company_issue_access_key(company=saved.company)


def write_sample_file(path: Path) -> Path:
    """The demo company's sample file (``sample_rows``: 11 rows)."""
    import csv

    from imports.csvfile import COLUMNS
    from user2smart.demo_seed import sample_rows

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        for row in sample_rows():
            writer.writerow({name: row.get(name, "") for name in COLUMNS})
    return path


def main() -> None:
    Demo().run()


if __name__ == "__main__":
    main()
