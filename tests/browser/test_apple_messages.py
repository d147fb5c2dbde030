"""The Messages page of the demo in Chromium: what the gateway stand-in accepts appears on the
phone as bubbles, and tapping the sign-in bubble opens the provider's sign-in."""

from __future__ import annotations

import uuid

import httpx
from playwright.sync_api import expect

from contactcenter.management.commands.demo import APPLE_BUSINESS_ID
from messaging.models import ChannelInstance
from tests.apple.gateway import platform_token, sign_in_request, to_device
from tests.browser.pages import screenshot


def from_business(base: str, path: str, body: dict) -> None:
    """What the platform sends Apple's gateway, sent to the stand-in."""
    response = httpx.post(
        f"{base}/portal/apple/gateway/{path}",
        json=body,
        headers={
            "Authorization": f"Bearer {platform_token()}",
            "id": body["id"],
            "source-id": body["sourceId"],
            "destination-id": body["destinationId"],
        },
    )
    assert response.status_code == 200, response.text


def test_the_phone_shows_the_business_messages_and_its_sign_in_leads_to_the_provider(
    demo, new_page
):
    page = new_page(width=900, height=900)
    page.goto(f"{demo}/portal/apple/")
    customer_id = page.get_by_test_id("apple-customer").text_content()
    setting = ChannelInstance.objects.get(business_id=APPLE_BUSINESS_ID).authentication_setting
    callback = f"{demo}{setting.callback_path}"

    for text in ("Hi, this is Sam at Northwind.", "To look at your order, please sign in."):
        from_business(demo, "message", to_device(APPLE_BUSINESS_ID, customer_id, body=text))
    request = sign_in_request(APPLE_BUSINESS_ID, customer_id, str(uuid.uuid4()), callback)
    from_business(demo, "authenticate", request)

    expect(page.get_by_test_id("apple-business")).to_have_text("Northwind Outfitters")
    expect(page.get_by_test_id("apple-bubble")).to_have_text(
        ["Hi, this is Sam at Northwind.", "To look at your order, please sign in."]
    )
    sign_in = page.get_by_test_id("apple-sign-in")
    expect(sign_in).to_contain_text("Sign in to Northwind Outfitters")
    page.get_by_test_id("apple-text").fill("Where is my order?")
    screenshot(page, "apple-messages")

    with page.expect_popup() as opened:
        sign_in.click()
    popup = opened.value
    popup.wait_for_load_state()
    # The provider asks the customer to sign in first, then goes on to the authorization.
    expect(popup.get_by_label("Username")).to_be_visible()
    assert "/portal/login" in popup.url
    assert "a-single-use-state" in popup.url
