"""Chromium through Playwright against the whole platform served by daphne.

The server runs in a child process on the test database (tests/live.py), so the tests'
records are its records. It may fetch the sample portal's keys from itself on loopback.
Debian's Chromium is used (`.ci/chromium` installs it, and `make test` runs it first); without
it the browser tests fail, since a skipped test proves nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from tests.apple_gateway import MSP_ID, SECRET
from tests.browser.pages import PASSWORDS
from tests.live import start_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def live_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """The base URL of daphne serving the platform, static files included."""
    # Enabled before the fork, so the server has them too.
    overrides = override_settings(
        CC_OUTBOUND_ALLOWED_HOSTS=["127.0.0.1"],
        VAR_DIR=tmp_path_factory.mktemp("var"),
        # An Apple Messaging Service Provider whose gateway is the sample portal's stand-in.
        APPLE_MSP_ID=MSP_ID,
        APPLE_MSP_SECRET=SECRET,
    )
    overrides.enable()
    try:
        server = start_server(django_db_blocker)
        yield server.url
        server.stop()
    finally:
        overrides.disable()


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is not installed: run .ci/chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API parks its event loop on this thread, which Django takes for
        # async code; the tests' database work is plain synchronous code all the same.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Pages in separate browser contexts (separate cookies and storage), closed afterwards."""
    contexts = []

    def open_page(width: int = 1280, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Every widget event the page sees, for the tests to read.
        page.add_init_script(
            """
            window.ccEvents = [];
            for (const name of ["ready", "error"]) {
              window.addEventListener("contactcenter:" + name, (event) => {
                window.ccEvents.push({ type: name, ...(event.detail || {}) });
              });
            }
            """
        )
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def demo(live_url, transactional_db, monkeypatch) -> str:
    """The demo data, with the sample portal's keys served by the live server."""
    for username, password in PASSWORDS.items():
        monkeypatch.setenv(f"DEMO_{username.upper()}_PASSWORD", password)
    # Playwright's sync API runs an event loop on this thread, where the live events the demo
    # sends on commit (async_to_sync) cannot run: the demo gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(call_command, "demo", base_url=live_url, stdout=io.StringIO()).result()
    return live_url
