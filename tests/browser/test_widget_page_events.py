"""What the widget tells the page and the visitor about the conversation's life: signed in,
ended by the agent, logged out; and where a visitor who must sign in goes to do it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from contactcenter.portal import DEPLOYMENT_NAME
from messaging.models import ChannelInstance, Deployment
from tests.browser.pages import (
    open_widget,
    screenshot,
    sign_in_agent,
    sign_in_customer,
    wait_for_widget_event,
    widget_events,
    widget_state,
)

pytestmark = pytest.mark.browser

QUESTION = "Can I change my delivery address?"
SIGN_IN = "https://shop.example/account/sign-in?next=/help"


def test_the_page_hears_of_the_sign_in_the_agents_close_and_the_logout(demo, new_page):
    customer = new_page()
    sockets = []
    customer.on("websocket", lambda socket: sockets.append(socket.url))
    sign_in_customer(customer, demo)
    open_widget(customer)
    pane = customer.get_by_role("dialog", name="Chat with us")
    customer.get_by_role("textbox", name="Message").fill(QUESTION)
    customer.keyboard.press("Enter")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text([QUESTION])
    (signed_in,) = widget_events(customer, "authenticated")

    agent = new_page()
    sign_in_agent(agent, demo)
    agent.get_by_test_id("waiting-conversation").get_by_test_id("accept").click()
    agent.get_by_test_id("close-conversation").click()

    wait_for_widget_event(customer, "closed")
    (closed,) = widget_events(customer, "closed")
    assert closed == {
        "type": "closed",
        "conversation": signed_in["conversation"],
        "reason": "agent",
    }
    expect(pane.locator(".cc-alert")).to_contain_text("This conversation has ended.")
    expect(customer.get_by_role("button", name="Start a new chat")).to_be_focused()
    expect(customer.get_by_role("textbox", name="Message")).to_be_disabled()
    screenshot(customer, "widget-ended-by-agent")

    customer.get_by_role("button", name="Start a new chat").click()
    expect(pane.locator(".cc-identity")).to_be_visible()  # hidden until the new chat starts
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    assert len(widget_events(customer, "authenticated")) == 2
    # An ended conversation is not a dropped connection: only the new chat connected again.
    assert len(sockets) == 2

    customer.evaluate("() => window.ContactCenter.logout()")
    wait_for_widget_event(customer, "loggedout")
    expect(pane).to_be_hidden()
    deployment = Deployment.objects.get(name=DEPLOYMENT_NAME)
    assert widget_state(customer, deployment.deployment_id) is None


def test_a_guest_who_must_sign_in_gets_the_pages_sign_in_link(demo, new_page, key_server, settings):
    widget = ChannelInstance.objects.get(name="Portal chat")
    deployment = Deployment.objects.create(
        name="Shop", channel_instance=widget, allowed_domains=[f"localhost:{key_server.port}"]
    )
    snippet = deployment.snippet(demo).replace(
        "<script ", f'<script data-sign-in-url="{SIGN_IN}" ', 1
    )
    key_server.serve(
        "/help",
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop help</title>"
        "<script>window.auth = {getAuthenticationToken: (callback) => callback(null)};</script>"
        f"</head><body><h1>Shop help</h1>{snippet}</body></html>",
        content_type="text/html; charset=utf-8",
    )
    page = new_page(width=360, height=740)
    page.goto(f"http://localhost:{key_server.port}/help")
    open_widget(page)

    alert = page.locator(".cc-alert")
    expect(alert).to_contain_text("Please sign in to chat with us.")
    link = page.get_by_role("link", name="Sign in to chat")
    expect(link).to_have_attribute("href", SIGN_IN)
    expect(link).to_be_focused()
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    screenshot(page, "widget-sign-in-link-360px")


def test_the_pages_provider_may_name_where_to_sign_in(demo, new_page):
    page = new_page()
    page.goto(f"{demo}/portal/")
    page.evaluate(
        """() => window.ContactCenter.setAuthTokenProvider(
             async () => ({ sign_in_url: "/portal/login?next=/portal/" }))"""
    )
    open_widget(page)
    link = page.get_by_role("link", name="Sign in to chat")
    expect(link).to_have_attribute("href", f"{demo}/portal/login?next=/portal/")
    assert [event["code"] for event in widget_events(page, "error")] == ["provider_no_token"]
    link.click()
    page.wait_for_url(f"{demo}/portal/login?next=/portal/")
