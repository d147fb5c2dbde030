"""The demo's Apple Messages for Business flow as a person runs it, in Chromium: a customer
writes on the Messages page, the agent accepts and answers in the console, asks the customer
to sign in, the customer taps the sign-in bubble and signs in at the platform's own provider,
and the console shows Authenticated Yes, then No once the sign-in lapses.

Everything is the demo's: its Apple channel and setting, the sample portal's gateway stand-in
and Messages page, the platform's provider at /o/. Only the expiry is shortened."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from authsettings.models import AuthenticationSetting
from contactcenter.management.commands.demo import APPLE_SETTING_NAME
from tests.browser.pages import PASSWORDS, screenshot, sign_in_agent

pytestmark = pytest.mark.browser

QUESTION = "Hi, where is my order 1042?"
ANSWER = "Happy to look: may I ask you to sign in first?"
# Administrators cannot go under a minute; the test waits less for the lapse.
EXPIRY_SECONDS = 6
# The lapse is told within 5 seconds; the console's clock may be a second behind.
LAPSE_MS = (EXPIRY_SECONDS + 10) * 1000


def test_a_customer_on_messages_signs_in_when_the_agent_asks_and_the_sign_in_lapses(demo, new_page):
    AuthenticationSetting.objects.filter(name=APPLE_SETTING_NAME).update(
        access_token_expiry_seconds=EXPIRY_SECONDS
    )
    phone = new_page(900, 900)
    phone.goto(f"{demo}/portal/apple/")
    customer_id = phone.get_by_test_id("apple-customer").text_content()
    phone.get_by_test_id("apple-text").fill(QUESTION)
    phone.get_by_test_id("apple-send").click()
    bubbles = phone.get_by_test_id("apple-bubble")
    expect(bubbles).to_have_text([QUESTION])
    screenshot(phone, "apple-demo-1-customer-writes")

    agent = new_page()
    sign_in_agent(agent, demo)
    waiting = agent.get_by_test_id("waiting-conversation")
    expect(waiting).to_contain_text("Apple Messages for Business")
    expect(waiting).to_contain_text(customer_id)
    screenshot(agent, "apple-demo-2-agent-sees-it-waiting")
    waiting.get_by_test_id("accept").click()
    expect(agent.get_by_test_id("summary-customer-id")).to_have_text(customer_id)
    expect(agent.get_by_test_id("summary-authenticated")).to_have_text("No")
    transcript = agent.get_by_test_id("transcript")
    expect(transcript.locator("[data-sender=visitor]")).to_contain_text(QUESTION)
    agent.get_by_test_id("compose-input").fill(ANSWER)
    agent.keyboard.press("Enter")
    expect(transcript.locator("[data-sender=agent]").get_by_test_id("delivery")).to_have_text(
        "Delivered"
    )
    screenshot(agent, "apple-demo-3-agent-answers")

    expect(bubbles).to_have_text([QUESTION, ANSWER])
    screenshot(phone, "apple-demo-4-answer-on-the-phone")

    agent.get_by_test_id("request-sign-in").click()
    sign_in = phone.get_by_test_id("apple-sign-in")
    expect(sign_in).to_contain_text("Sign in to Northwind Outfitters")
    screenshot(phone, "apple-demo-5-sign-in-bubble")

    with phone.expect_popup() as opened:
        sign_in.click()
    provider = opened.value
    provider.get_by_label("Username").fill("customer")
    provider.get_by_label("Password").fill(PASSWORDS["customer"])
    screenshot(provider, "apple-demo-6-provider-sign-in")
    provider.get_by_role("button", name="Sign in", exact=True).click()
    # The page sees the provider send the customer back, closes it and answers the request.
    provider.wait_for_event("close")
    expect(bubbles.last).to_have_text("I signed in")
    screenshot(phone, "apple-demo-7-signed-in-on-the-phone")

    authenticated = agent.get_by_test_id("summary-authenticated")
    expect(authenticated).to_contain_text("Yes (until")
    screenshot(agent, "apple-demo-8-authenticated-yes")
    expect(authenticated).to_have_text("No", timeout=LAPSE_MS)
    screenshot(agent, "apple-demo-9-authenticated-no")
