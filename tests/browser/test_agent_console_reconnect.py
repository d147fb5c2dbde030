"""The agent console while its connection is down, and once it is back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    NetworkSwitch,
    close_behind_the_scenes,
    offer_guest_chat,
    screenshot,
    sign_in_agent,
    start_guest_chat,
)

pytestmark = pytest.mark.browser

FIRST = "First customer here"
SECOND = "Second customer here"


def test_accept_while_disconnected_says_so_and_works_once_reconnected(demo, new_page):
    offer_guest_chat()
    start_guest_chat(new_page(), demo, FIRST)
    agent = new_page()
    network = NetworkSwitch(agent, r"/ws/agent/")
    sign_in_agent(agent, demo)
    accept = agent.get_by_test_id("accept")
    expect(accept).to_have_count(1)

    network.off()
    expect(agent.get_by_test_id("connection-status")).to_have_text("Connection lost. Reconnecting…")
    accept.click()
    expect(agent.get_by_test_id("console-error")).to_contain_text("Not connected")
    expect(accept).to_be_enabled()

    network.on()
    expect(agent.get_by_test_id("connection-status")).to_have_text("Connected")
    agent.get_by_test_id("accept").click()
    expect(agent.get_by_test_id("transcript")).to_contain_text(FIRST)


def test_conversations_closed_while_disconnected_show_as_closed_once_reconnected(demo, new_page):
    offer_guest_chat()
    start_guest_chat(new_page(), demo, FIRST)
    start_guest_chat(new_page(), demo, SECOND)
    agent = new_page()
    network = NetworkSwitch(agent, r"/ws/agent/")
    sign_in_agent(agent, demo)
    expect(agent.get_by_test_id("accept")).to_have_count(2)
    agent.get_by_test_id("accept").first.click()
    expect(agent.get_by_test_id("accept")).to_have_count(1)
    agent.get_by_test_id("accept").click()
    mine = agent.get_by_test_id("my-conversation")
    expect(mine).to_have_count(2)
    expect(agent.get_by_test_id("transcript")).to_contain_text(SECOND)

    network.off()
    expect(agent.get_by_test_id("connection-status")).to_have_text("Connection lost. Reconnecting…")
    close_behind_the_scenes(SECOND)
    network.on()

    expect(agent.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(agent.get_by_test_id("summary-status")).to_have_text("closed")
    expect(agent.get_by_test_id("compose-input")).to_be_disabled()
    expect(mine.filter(has_text="Closed")).to_have_count(1)
    screenshot(agent, "console-closed-while-disconnected")
    mine.filter(has_not_text="Closed").get_by_role("button").click()
    expect(agent.get_by_test_id("transcript")).to_contain_text(FIRST)
    expect(agent.get_by_test_id("summary-status")).to_have_text("active")
    expect(agent.get_by_test_id("compose-input")).to_be_enabled()
