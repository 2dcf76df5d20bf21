"""The pages' live parts in headless Chromium: the size check before upload, the page that
refreshes itself, the row filters, and the keyboard "Copy" button."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings as django_settings

from imports.models import ImportRun
from tests.imports.runs.conftest import SAMPLES

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMEOUT_MS = 30_000


@pytest.fixture
def page(live_server, acme_browser, settings, monkeypatch):
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database reads
    # are plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.STATICFILES_DIRS = [django_settings.BASE_DIR / "user2smart" / "static"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        session = acme_browser.cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        yield context.new_page()
        browser.close()


def test_a_file_over_the_limit_is_refused_before_it_is_sent(page, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100

    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(SAMPLES / "users-basic.csv"))
    page.click("#import-submit")

    message = page.locator("#id_file_size_error")
    assert message.inner_text().startswith("This file is larger than 1 KB")
    assert page.url.endswith("/imports/new/")
    assert not ImportRun.objects.exists()


def test_the_run_page_moves_on_by_itself_and_filters_rows(page, celery_worker):
    page.goto("/imports/new/")
    page.set_input_files("#id_file", str(SAMPLES / "errors.csv"))
    page.click("#import-submit")

    page.wait_for_selector("text=What will happen")
    page.click("text=Errors only")
    page.wait_for_url("**?show=errors")

    assert "x9@acme.example" not in page.inner_text("#rows")
    assert "Line 5, column languageCode" in page.inner_text("#rows")


def test_an_id_is_copied_with_the_keyboard(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/lists/")

    button = page.locator('button.copy[data-copy="64b7f0c2a1d3e4f5a6b7c8d9"]')
    button.focus()
    page.keyboard.press("Enter")

    page.wait_for_selector('button.copy.copied[data-copy="64b7f0c2a1d3e4f5a6b7c8d9"]')
    assert button.inner_text() == "Copied"
    assert page.evaluate("navigator.clipboard.readText()") == "64b7f0c2a1d3e4f5a6b7c8d9"
