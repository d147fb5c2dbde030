"""Persistent conversations in Chromium: the demo's "Account chat" (/portal/oidc/) keeps a
signed-in customer's open conversation on every device. A second browser signed in as the
same customer continues it, and both browsers and the agent see every message."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from messaging.models import ChannelInstance, Conversation
from tests.browser.pages import (
    PASSWORDS,
    open_widget,
    screenshot,
    sign_in_agent,
    sign_in_at_platform,
)

pytestmark = pytest.mark.browser

ON_THE_LAPTOP = "Hello, I started on my laptop"
ON_THE_PHONE = "And now I am on my phone"
ANSWER = "I see both, Dana"


def signed_in_chat(new_page, base: str, width: int = 1280, height: int = 800):
    """A browser of its own whose visitor signed in as the demo's customer at the platform's
    provider and opened the Account chat; and its chat pane."""
    page = new_page(width, height)
    page.goto(f"{base}/portal/oidc/")
    sign_in_at_platform(page, "customer", PASSWORDS["customer"])
    open_widget(page)
    pane = page.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    return page, pane


def write(page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.keyboard.press("Enter")


def test_a_second_browser_of_the_customer_continues_the_same_conversation(demo, new_page):
    widget = ChannelInstance.objects.get(name="Account chat")
    assert widget.persistent_conversations
    laptop, laptop_pane = signed_in_chat(new_page, demo)
    write(laptop, ON_THE_LAPTOP)
    expect(laptop_pane.locator(".cc-from-visitor .cc-text")).to_have_text([ON_THE_LAPTOP])

    phone, phone_pane = signed_in_chat(new_page, demo, width=390, height=844)
    expect(phone_pane.locator(".cc-from-visitor .cc-text")).to_have_text([ON_THE_LAPTOP])
    write(phone, ON_THE_PHONE)

    agent = new_page()
    sign_in_agent(agent, demo)
    waiting = agent.get_by_test_id("waiting-conversation")
    expect(waiting).to_have_count(1)
    waiting.get_by_test_id("accept").click()
    transcript = agent.get_by_test_id("transcript")
    expect(transcript).to_contain_text(ON_THE_PHONE)
    agent.get_by_test_id("compose-input").fill(ANSWER)
    agent.keyboard.press("Enter")

    for pane in (laptop_pane, phone_pane):
        expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text(
            [ON_THE_LAPTOP, ON_THE_PHONE]
        )
        expect(pane.locator(".cc-from-agent .cc-text")).to_have_text([ANSWER])
    screenshot(laptop, "widget-persistent-laptop")
    screenshot(phone, "widget-persistent-phone")

    (conversation,) = Conversation.objects.filter(channel_instance=widget)
    assert conversation.authenticated_now
    stored = conversation.messages.exclude(sender="system").order_by("id")
    assert [(m.sender, m.text) for m in stored] == [
        ("visitor", ON_THE_LAPTOP),
        ("visitor", ON_THE_PHONE),
        ("agent", ANSWER),
    ]
