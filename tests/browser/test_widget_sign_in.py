"""The widget asks the page for a token, and tells the visitor plainly when there is none."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from contactcenter.management.commands.demo import DEMO_CONTACT_ID
from contactcenter.portal import DEPLOYMENT_NAME, tokens
from messaging.models import ChannelInstance, Deployment
from tests.browser.pages import open_widget, screenshot, wait_for_widget_event, widget_events

pytestmark = pytest.mark.browser

START_WITHOUT_TOKEN = """
async ({ url, deploymentId }) => new Promise((resolve) => {
  const socket = new WebSocket(url);
  let frame = null;
  socket.onopen = () => socket.send(
    JSON.stringify({ type: "start", token: null, deployment_id: deploymentId }));
  socket.onmessage = (event) => { frame = JSON.parse(event.data); };
  socket.onclose = (event) => resolve({ frame, code: event.code });
})
"""


def portal_page(new_page, base: str, **viewport):
    page = new_page(**viewport)
    page.goto(f"{base}/portal/")
    return page


def error_codes(page) -> list[str]:
    return [event["code"] for event in widget_events(page, "error")]


def test_a_guest_on_a_widget_that_requires_sign_in_is_refused_with_a_readable_message(
    demo, new_page
):
    page = portal_page(new_page, demo, width=360, height=740)
    open_widget(page)

    expect(page.locator(".cc-alert")).to_contain_text("Please sign in to chat with us.")
    assert error_codes(page) == ["provider_no_token"]
    expect(page.get_by_role("link", name="Sign in to chat")).to_have_attribute(
        "href", f"{demo}/portal/login?next=/portal/"
    )
    expect(page.get_by_role("textbox", name="Message")).to_be_disabled()
    pane = page.get_by_role("dialog", name="Chat with us").bounding_box()
    assert pane["x"] >= 0
    assert pane["x"] + pane["width"] <= 360
    screenshot(page, "widget-guest-refused-360px")

    # The platform refuses such a visitor itself too, with the contract's code.
    widget = ChannelInstance.objects.get(name="Portal chat")
    deployment = Deployment.objects.get(channel_instance=widget, name=DEPLOYMENT_NAME)
    refused = page.evaluate(
        START_WITHOUT_TOKEN,
        {
            "url": f"{demo.replace('http', 'ws', 1)}/ws/widget/{widget.widget_id}/",
            "deploymentId": str(deployment.deployment_id),
        },
    )
    assert refused["frame"]["code"] == "token_missing"
    assert refused["code"] == 4401


@pytest.mark.parametrize(
    ("provider", "code", "message"),
    [
        (
            "window.auth.getAuthenticationToken = () => { throw new Error('portal down'); }",
            "provider_failed",
            "We couldn't get your sign-in from this page.",
        ),
        (
            "window.ContactCenter.setAuthTokenProvider(() => Promise.reject(new Error('no')))",
            "provider_failed",
            "We couldn't get your sign-in from this page.",
        ),
        (
            "window.auth.getAuthenticationToken = (callback) => callback('')",
            "provider_no_token",
            "Please sign in to chat with us.",
        ),
        (
            "window.ContactCenter.setAuthTokenProvider(async () => null)",
            "provider_no_token",
            "Please sign in to chat with us.",
        ),
    ],
    ids=["throws", "rejects", "empty-callback", "promise-of-null"],
)
def test_a_token_provider_that_gives_no_token_is_reported(demo, new_page, provider, code, message):
    page = portal_page(new_page, demo)
    page.evaluate(f"() => {{ {provider}; }}")
    open_widget(page)
    expect(page.locator(".cc-alert")).to_contain_text(message)
    (event,) = widget_events(page, "error")
    assert event["code"] == code
    assert event["message"].startswith(message)


def test_a_token_provider_that_never_answers_times_out_after_ten_seconds(demo, new_page):
    page = new_page()
    page.clock.install()
    page.goto(f"{demo}/portal/")
    page.evaluate("() => { window.auth.getAuthenticationToken = () => {}; }")
    open_widget(page)
    expect(page.get_by_role("status")).to_have_text("Signing you in…")
    page.clock.run_for(9_000)
    assert error_codes(page) == []
    page.clock.run_for(1_500)
    expect(page.locator(".cc-alert")).to_contain_text("Signing you in took too long.")
    assert error_codes(page) == ["provider_timeout"]


def test_a_registered_provider_goes_before_the_page_function_until_removed(demo, new_page):
    page = portal_page(new_page, demo)
    registered = page.evaluate(
        """() => {
          window.auth.getAuthenticationToken = () => { throw new Error("page function"); };
          const provider = () => Promise.resolve("");
          window.ContactCenter.setAuthTokenProvider(provider);
          return window.ContactCenter.getAuthTokenProvider() === provider;
        }"""
    )
    assert registered
    open_widget(page)
    expect(page.locator(".cc-alert")).to_contain_text("Please sign in to chat with us.")

    page.evaluate("() => { window.ContactCenter.removeAuthTokenProvider(); }")
    assert page.evaluate("window.ContactCenter.getAuthTokenProvider()") is None
    page.get_by_role("button", name="Try again").click()
    expect(page.locator(".cc-alert")).to_contain_text("We couldn't get your sign-in")
    assert error_codes(page) == ["provider_no_token", "provider_failed"]


def test_an_expired_token_shows_that_the_session_has_expired(demo, new_page):
    expired = tokens.issue(
        issuer=tokens.ISSUER,
        subject=str(DEMO_CONTACT_ID),
        context={"msdyn_cartvalue": "10000", "msdyn_isvip": "false"},
        now=time.time() - 3600,
    )
    page = portal_page(new_page, demo)
    page.evaluate(
        "(token) => { window.auth.getAuthenticationToken = (callback) => callback(token); }",
        expired,
    )
    open_widget(page)

    expect(page.locator(".cc-alert")).to_contain_text(
        "Your session has expired. Please sign in again."
    )
    assert error_codes(page) == ["token_expired"]
    screenshot(page, "widget-token-expired")


def test_the_widget_works_from_the_keyboard(demo, new_page):
    page = portal_page(new_page, demo)
    wait_for_widget_event(page, "ready")
    launcher = page.get_by_role("button", name="Open chat")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Chat with us")).to_be_visible()
    expect(page.get_by_role("button", name="Close chat").first).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Chat with us")).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat")).to_be_focused()
