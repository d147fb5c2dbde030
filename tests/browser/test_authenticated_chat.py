"""Authenticated chat end to end: a customer signed in on the sample portal chats with an agent
who sees who they are, how they were verified and what their site said about them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contactcenter.portal import keys, tokens
from messaging.models import ChannelInstance
from tests.browser.pages import (
    NetworkSwitch,
    open_widget,
    screenshot,
    sign_in_agent,
    sign_in_customer,
)

pytestmark = pytest.mark.browser

QUESTION = "Hello, where is my order?"
ANSWER = "Hi Dana, it ships tomorrow."
MARKUP = "<img src=x onerror=alert(1)> thanks!"


def test_a_signed_in_customer_and_an_agent_chat_both_ways(demo, new_page):
    customer = new_page()
    sign_in_customer(customer, demo)
    expect(customer.get_by_test_id("portal-state")).to_contain_text("signed in as Dana Demo")
    open_widget(customer)
    pane = customer.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    customer.get_by_role("textbox", name="Message").fill(QUESTION)
    customer.keyboard.press("Enter")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text(QUESTION)

    agent = new_page()
    sign_in_agent(agent, demo)
    waiting = agent.get_by_test_id("waiting-conversation")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Dana Demo")
    expect(waiting).to_contain_text("Authenticated customers")
    screenshot(agent, "console-waiting")
    waiting.get_by_test_id("accept").click()

    expect(agent.get_by_test_id("waiting-list").locator("li")).to_have_count(0)
    expect(agent.get_by_test_id("summary-authenticated")).to_have_text("Yes")
    expect(agent.get_by_test_id("summary-contact")).to_contain_text("Dana Demo")
    expect(agent.get_by_test_id("summary-contact")).to_contain_text("dana@example.com")
    context = agent.get_by_test_id("summary-context")
    expect(context.locator("[data-name=msdyn_cartvalue] td")).to_have_text("10000")
    expect(context.locator("[data-name=msdyn_isvip] td")).to_have_text("false")
    expect(context.locator("[data-name=portalcontactid]")).to_have_count(0)
    verification = agent.get_by_test_id("summary-verification")
    expect(verification).to_contain_text("Sample portal")
    expect(verification).to_contain_text(keys.current_key().kid)
    expect(verification).to_contain_text(tokens.ISSUER)
    transcript = agent.get_by_test_id("transcript")
    expect(transcript).to_contain_text(QUESTION)

    agent.get_by_test_id("compose-input").fill(ANSWER)
    agent.keyboard.press("Enter")
    expect(pane.locator(".cc-from-agent")).to_contain_text(ANSWER)
    expect(transcript.locator("[data-sender=agent]")).to_contain_text(ANSWER)

    # Visitor text is text wherever it shows, never markup.
    customer.get_by_role("textbox", name="Message").fill(MARKUP)
    customer.get_by_role("button", name="Send").click()
    expect(transcript.locator("[data-sender=visitor]").last).to_contain_text(MARKUP)
    assert transcript.locator("img").count() == 0
    screenshot(customer, "widget-chat")
    screenshot(agent, "console-chat")

    # A reload resumes the conversation with its transcript, each message once.
    customer.reload()
    pane = customer.get_by_role("dialog", name="Chat with us")
    expect(pane).to_be_visible()
    expect(pane.locator(".cc-from-agent")).to_have_count(1)
    expect(pane.locator(".cc-from-visitor")).to_have_count(2)
    expect(pane.locator(".cc-from-visitor").last).to_contain_text(MARKUP)
    assert pane.locator("img").count() == 0

    agent.get_by_test_id("compose-input").fill("Anything else?")
    agent.keyboard.press("Enter")
    expect(pane.locator(".cc-from-agent")).to_have_count(2)

    agent.get_by_test_id("close-conversation").click()
    expect(agent.get_by_test_id("summary-status")).to_have_text("closed")
    expect(customer.locator(".cc-alert")).to_contain_text("This conversation has ended.")
    expect(customer.get_by_role("button", name="Start a new chat")).to_be_visible()
    screenshot(customer, "widget-ended")


def test_a_dropped_connection_resumes_without_losing_or_repeating_messages(demo, new_page):
    customer = new_page()
    visitor_network = NetworkSwitch(customer, r"/ws/widget/")
    sign_in_customer(customer, demo)
    open_widget(customer)
    customer.get_by_role("textbox", name="Message").fill(QUESTION)
    customer.keyboard.press("Enter")
    pane = customer.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-from-visitor")).to_have_count(1)

    agent = new_page()
    agent_network = NetworkSwitch(agent, r"/ws/agent/")
    sign_in_agent(agent, demo)
    agent.get_by_test_id("accept").click()
    transcript = agent.get_by_test_id("transcript")
    expect(transcript).to_contain_text(QUESTION)

    visitor_network.off()
    expect(customer.get_by_role("status")).to_have_text("Connection lost. Reconnecting…")
    agent.get_by_test_id("compose-input").fill("Sent while you were offline")
    agent.keyboard.press("Enter")
    expect(transcript.locator("[data-sender=agent]")).to_have_count(1)
    visitor_network.on()
    expect(pane.locator(".cc-from-agent .cc-text")).to_have_text(["Sent while you were offline"])
    resume = visitor_network.sent[-1]
    assert resume["type"] == "resume"
    assert resume["after"].isdigit()
    assert "token" not in resume
    expect(customer.get_by_role("status")).to_have_text("")

    agent_network.off()
    expect(agent.get_by_test_id("connection-status")).to_have_text("Connection lost. Reconnecting…")
    customer.get_by_role("textbox", name="Message").fill("Still there?")
    customer.keyboard.press("Enter")
    agent_network.on()
    expect(agent.get_by_test_id("connection-status")).to_have_text("Connected")
    expect(transcript.locator("[data-sender=visitor]")).to_have_count(2)
    expect(transcript.locator("[data-sender=visitor]").last).to_contain_text("Still there?")
    expect(agent.get_by_test_id("summary-authenticated")).to_have_text("Yes")
    expect(pane.locator(".cc-message")).to_have_count(5)


def test_a_guest_who_signs_in_mid_chat_turns_authenticated_for_the_agent(demo, new_page):
    ChannelInstance.objects.filter(name="Portal chat").update(
        require_authentication=False, allow_session_upgrade=True
    )
    customer = new_page()
    customer.goto(f"{demo}/portal/")
    open_widget(customer)
    pane = customer.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-identity")).to_have_text("Guest")
    customer.get_by_role("textbox", name="Message").fill(QUESTION)
    customer.keyboard.press("Enter")

    agent = new_page()
    sign_in_agent(agent, demo)
    waiting = agent.get_by_test_id("waiting-conversation")
    expect(waiting).to_contain_text("Anonymous customers")
    waiting.get_by_test_id("accept").click()
    expect(agent.get_by_test_id("summary-authenticated")).to_have_text("No")

    sign_in_customer(customer, demo)
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text([QUESTION])
    expect(agent.get_by_test_id("summary-authenticated")).to_have_text("Yes")
    screenshot(agent, "console-upgraded")
