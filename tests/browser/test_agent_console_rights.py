"""The agent console when its socket is closed for rights: a clear message, no reconnecting."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import screenshot, sign_in_agent

pytestmark = pytest.mark.browser


def test_a_console_signed_out_in_another_tab_says_so_and_leads_to_the_sign_in_page(demo, new_page):
    console = new_page()
    sockets = []
    console.on("websocket", lambda socket: sockets.append(socket.url))
    sign_in_agent(console, demo)
    expect(console.get_by_test_id("connection-status")).to_have_text("Connected")

    other_tab = console.context.new_page()
    other_tab.goto(f"{demo}/agent/")
    other_tab.get_by_role("button", name="Sign out").click()

    # A console about to reconnect says "Reconnecting…" at once; this one stays signed out.
    expect(console.get_by_test_id("connection-status")).to_have_text("Signed out")
    expect(console.get_by_test_id("console-error")).to_contain_text(
        "Signed out, or no longer an agent: sign in again"
    )
    screenshot(console, "console-signed-out")
    assert len(sockets) == 1
    console.get_by_test_id("sign-in-again").click()
    console.wait_for_url(re.compile(r"/agent/login/\?next=/agent/$"))
