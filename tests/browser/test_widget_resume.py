"""The widget across a dropped connection into a conversation that ended meanwhile."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    NetworkSwitch,
    close_behind_the_scenes,
    offer_guest_chat,
    screenshot,
    start_guest_chat,
)

pytestmark = pytest.mark.browser

QUESTION = "Is the store open on Sunday?"
UNSENT = "Written while the connection was down"
NEXT = "A new question"


def test_text_written_while_reconnecting_to_an_ended_conversation_stays_out_of_the_next_one(
    demo, new_page
):
    offer_guest_chat()
    customer = new_page()
    network = NetworkSwitch(customer, r"/ws/widget/")
    start_guest_chat(customer, demo, QUESTION)
    pane = customer.get_by_role("dialog", name="Chat with us")

    network.off()
    expect(customer.get_by_role("status")).to_have_text("Connection lost. Reconnecting…")
    customer.get_by_role("textbox", name="Message").fill(UNSENT)
    customer.keyboard.press("Enter")
    close_behind_the_scenes(QUESTION)
    network.on()

    expect(pane.locator(".cc-alert")).to_contain_text("This conversation has ended.")
    customer.get_by_role("button", name="Start a new chat").click()
    expect(pane.locator(".cc-identity")).to_have_text("Guest")
    customer.get_by_role("textbox", name="Message").fill(NEXT)
    customer.keyboard.press("Enter")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text([NEXT])
    screenshot(customer, "widget-new-chat-after-end")
    assert UNSENT not in [frame.get("text") for frame in network.sent]
