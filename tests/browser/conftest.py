"""Chromium through Playwright against the whole platform served by daphne.

The server runs in a child process on the test database (tests/live.py), so the tests'
records are its records. It may fetch the sample portal's keys from itself on loopback.
Debian's Chromium is used (`.ci/chromium` installs it, and `make test` runs it first); without
it the browser tests fail, since a skipped test proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apple.gateway import MSP_ID, MSP_SECRET
from tests.live import free_port, load_demo, serving_platform

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


@pytest.fixture(scope="module")
def live_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """The base URL of daphne serving the platform, static files included. One server per
    module, never two at once: each server process sweeps the shared database for due Apple
    deliveries and lapsed sign-ins, and tells only the sockets on its own (in-memory) channel
    layer, so a second server would take work whose agents listen on the first."""
    port = free_port()
    with serving_platform(
        django_db_blocker,
        tmp_path_factory.mktemp("var"),
        port=port,
        # An Apple Messaging Service Provider whose gateway is the sample portal's stand-in, as
        # `make run` has it.
        APPLE_MSP_ID=MSP_ID,
        APPLE_MSP_SECRET=MSP_SECRET,
        APPLE_GATEWAY_URL=f"http://127.0.0.1:{port}/portal/apple/gateway",
    ) as server:
        yield server.url


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
            const names = ["ready", "error", "authenticated", "reauthenticating", "closed",
                           "loggedout"];
            for (const name of names) {
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
    load_demo(live_url, monkeypatch)
    return live_url
