"""Headless Chromium for the company admins' pages.

One Chromium for the browser tests (`chromium`), a fresh context per test (`page`: signed out;
`admin_page`: signed in as Acme's administrator) on pytest-django's `live_server`, and a
folder for each test's screenshots (`screens`): `$BROWSER_SCREENSHOTS/<test name>/`, else
the test's `tmp_path`.

The browser lives for the tests of this package only (package scope), not for the whole
session: Playwright's sync API keeps an asyncio loop running in the main thread while it is
started, and Django refuses ORM calls in a thread with a running loop. While the browser is up,
DJANGO_ALLOW_ASYNC_UNSAFE lets the tests' own plain synchronous database reads through; both
end with this package, so the rest of the suite runs as before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Browser, Page

from tests.web import conftest as web_pages

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000

# The pages' tests' fixtures, shared: Acme connected to the emulator, its administrator, and a
# private cache for the header's "Connected to SmartRecruiters" status.
acme = web_pages.acme
acme_admin = web_pages.acme_admin
private_cache = web_pages.private_cache


class Screens:
    """Full-page screenshots of one test, numbered in the order they are taken."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def take(self, page: Page, step: str) -> Path:
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run installs it).")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def screens(request, tmp_path) -> Screens:
    root = os.environ.get("BROWSER_SCREENSHOTS")
    folder = Path(root) / request.node.name if root else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"Screenshots of {request.node.name}: {folder}")
    return Screens(folder)


@pytest.fixture
def script_errors() -> list[str]:
    """The uncaught script errors of the test's pages: a page that throws is broken."""
    return []


@pytest.fixture
def page(chromium, live_server, transactional_db, script_errors):
    """A new browser tab on the live server, signed out."""
    context = chromium.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("pageerror", lambda error: script_errors.append(str(error)))
    yield tab
    context.close()
    assert script_errors == [], f"The pages threw script errors: {script_errors}"


@pytest.fixture
def admin_page(page, acme_admin, live_server):
    """The tab signed in as Acme's administrator (the session cookie of a forced login)."""
    client = Client()
    client.force_login(acme_admin)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
    return page
