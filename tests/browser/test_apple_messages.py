"""The Messages page of the demo in Chromium: what the gateway stand-in accepts appears on the
phone as bubbles, and tapping the sign-in bubble opens the provider's sign-in."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import jwt
import pytest
from django.core.management import call_command
from django.test.utils import override_settings
from playwright.sync_api import expect

from contactcenter.management.commands.demo import APPLE_BUSINESS_ID
from contactcenter.portal.apple import AUTHENTICATION_BID
from messaging.models import ChannelInstance
from tests.browser.pages import PASSWORDS, screenshot
from tests.live import start_server

MSP_ID = "demo-msp"
SECRET = b"the demo's MSP secret, 32 bytes."


@pytest.fixture(scope="module")
def apple_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    """The platform served by daphne as an Apple MSP whose gateway is the stand-in."""
    overrides = override_settings(
        CC_OUTBOUND_ALLOWED_HOSTS=["127.0.0.1"],
        VAR_DIR=tmp_path_factory.mktemp("var"),
        APPLE_MSP_ID=MSP_ID,
        APPLE_MSP_SECRET=SECRET,
    )
    overrides.enable()
    try:
        server = start_server(django_db_blocker)
        yield server.url
        server.stop()
    finally:
        overrides.disable()


@pytest.fixture
def apple_demo(apple_url, transactional_db, monkeypatch) -> str:
    for username, password in PASSWORDS.items():
        monkeypatch.setenv(f"DEMO_{username.upper()}_PASSWORD", password)
    # Playwright's event loop holds this thread; the demo runs on one of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(call_command, "demo", base_url=apple_url, stdout=io.StringIO()).result()
    return apple_url


def from_business(base: str, path: str, customer_id: str, kind: str, **fields) -> None:
    """What the platform sends Apple's gateway, sent to the stand-in."""
    now = int(time.time())
    token = jwt.encode({"iss": MSP_ID, "iat": now, "exp": now + 60}, SECRET, "HS256")
    body = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "sourceId": APPLE_BUSINESS_ID,
        "destinationId": customer_id,
        "v": 1,
        **fields,
    }
    response = httpx.post(
        f"{base}/portal/apple/gateway/{path}",
        json=body,
        headers={
            "Authorization": f"Bearer {token}",
            "id": body["id"],
            "source-id": APPLE_BUSINESS_ID,
            "destination-id": customer_id,
        },
    )
    assert response.status_code == 200, response.text


def test_the_phone_shows_the_business_messages_and_its_sign_in_leads_to_the_provider(
    apple_demo, new_page
):
    page = new_page(width=900, height=900)
    page.goto(f"{apple_demo}/portal/apple/")
    customer_id = page.get_by_test_id("apple-customer").text_content()
    setting = ChannelInstance.objects.get(business_id=APPLE_BUSINESS_ID).authentication_setting
    callback = f"{apple_demo}{setting.callback_path}"

    from_business(apple_demo, "message", customer_id, "text", body="Hi, this is Sam at Northwind.")
    from_business(
        apple_demo, "message", customer_id, "text", body="To look at your order, please sign in."
    )
    from_business(
        apple_demo,
        "authenticate",
        customer_id,
        "interactive",
        interactiveData={
            "bid": AUTHENTICATION_BID,
            "data": {
                "version": "1.0",
                "requestIdentifier": str(uuid.uuid4()),
                "authenticate": {
                    "oauth2": {
                        "responseType": "code",
                        "scope": ["openid"],
                        "state": "a-single-use-state",
                        "redirectURI": callback,
                    }
                },
            },
            "receivedMessage": {"title": "Sign in to Northwind Outfitters", "style": "icon"},
            "replyMessage": {"title": "I signed in", "style": "icon"},
        },
    )

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
