from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from authsettings.models import AuthenticationSetting
from messaging.models import ChannelInstance
from tests.apple import device
from tests.apple.device import BUSINESS_ID, CUSTOMER
from tests.apple.gateway import MSP_ID, MSP_SECRET, Gateway
from tests.browser.pages import PASSWORDS, screenshot, sign_in_agent
from tests.helpers import APPLE, Type, authentication_rich_message, make_agent, make_setting
from tests.keyserver import KeyServer
from tests.live import serving_platform
from workstreams.models import Queue, Workstream

pytestmark = pytest.mark.browser

UNDELIVERABLE = "This one the gateway refuses"
REFUND_SIGN_IN = "Sign in to get your refund"
# A failed send is retried for at least 30 seconds before it is marked failed.
RETRIES_MS = 60_000
EXPIRY_SECONDS = 8


@pytest.fixture(scope="module")
def gateway(_running_key_server: KeyServer) -> Gateway:
    """Apple's gateway, refusing the message the test wants undelivered, and the customer's
    identity provider, on one loopback server."""
    _running_key_server.reset()
    stand_in = Gateway(_running_key_server)
    stand_in.install()
    stand_in.refuse(lambda body: UNDELIVERABLE in body.get("body", ""))
    return stand_in


@pytest.fixture(scope="module")
def live_url(django_db_setup, django_db_blocker, tmp_path_factory, gateway) -> Iterator[str]:
    """The platform as its MSP, sending to the stand-in gateway. Its own server: the package's
    one sends to the sample portal's stand-in, which refuses nothing."""
    with serving_platform(
        django_db_blocker,
        tmp_path_factory.mktemp("var"),
        APPLE_MSP_ID=MSP_ID,
        APPLE_MSP_SECRET=MSP_SECRET,
        APPLE_GATEWAY_URL=gateway.url,
    ) as server:
        yield server.url


@pytest.fixture
def apple_channel(live_url, transactional_db, gateway) -> AuthenticationSetting:
    """An Apple channel instance whose OpenID Connect setting has two sign-in messages, and
    the agent on its queue."""
    gateway.server.serve(
        "/idp/token", {"access_token": "provider-access-token", "token_type": "Bearer"}
    )
    gateway.server.serve("/idp/me", {"sub": "apple-customer-7"})
    # Playwright's sync API runs an event loop on this thread, where the live events these
    # writes send on commit (async_to_sync) cannot run: the writes get a thread of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_apple_channel, gateway.server).result()


def _apple_channel(gateway: KeyServer) -> AuthenticationSetting:
    workstream = Workstream.objects.create(name="Apple", channel_type=APPLE)
    workstream.default_queue = Queue.objects.create(name="Apple customers", workstream=workstream)
    workstream.save()
    setting = make_setting(
        Type.OAUTH2_OPENID_CONNECT,
        name="Apple sign-in",
        access_token_url=gateway.url("/idp/token"),
        decrypted_token_url=gateway.url("/idp/me"),
    )
    refund = authentication_rich_message(
        name="Verify for a refund",
        content={"received_message": REFUND_SIGN_IN, "reply_message": "Signed in"},
    )
    setting.rich_messages.add(refund)
    # Administrators cannot go under a minute; the test waits less for the expiry.
    AuthenticationSetting.objects.filter(pk=setting.pk).update(
        access_token_expiry_seconds=EXPIRY_SECONDS
    )
    ChannelInstance.objects.create(
        name="Apple support",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=workstream,
        authentication_setting=setting,
        require_authentication=False,
        business_id=BUSINESS_ID,
    )
    agent = make_agent("agent", password=PASSWORDS["agent"])
    agent.queues.add(workstream.default_queue)
    return setting


def test_an_agent_follows_an_apple_conversation_from_waiting_to_a_lapsed_sign_in(
    live_url, apple_channel, gateway, new_page
):
    device.text(live_url, "Hi, I need help with my order", capabilities="LIST")

    agent = new_page()
    sign_in_agent(agent, live_url)
    waiting = agent.get_by_test_id("waiting-conversation")
    expect(waiting).to_contain_text("Apple Messages for Business")
    expect(waiting).to_contain_text(CUSTOMER)
    expect(waiting).to_contain_text("Not authenticated")
    screenshot(agent, "console-apple-waiting")
    waiting.get_by_test_id("accept").click()

    expect(agent.get_by_test_id("summary-channel-kind")).to_have_text("Apple Messages for Business")
    expect(agent.get_by_test_id("summary-customer-id")).to_have_text(CUSTOMER)
    expect(agent.get_by_test_id("summary-authenticated")).to_have_text("No")
    transcript = agent.get_by_test_id("transcript")
    expect(transcript.locator("[data-sender=visitor]")).to_contain_text("my order")

    for text in ("Sure, which order?", UNDELIVERABLE):
        agent.get_by_test_id("compose-input").fill(text)
        agent.keyboard.press("Enter")
    sent = transcript.locator("[data-sender=agent]")
    expect(sent).to_have_count(2)
    expect(sent.first.get_by_test_id("delivery")).to_have_text("Delivered")
    expect(sent.last.get_by_test_id("delivery")).to_have_text("Sending…")

    device.post(live_url, device.body("typing_start"), capabilities="LIST")
    expect(agent.get_by_test_id("typing")).to_be_visible()
    device.post(live_url, device.body("typing_end"), capabilities="LIST")
    expect(agent.get_by_test_id("typing")).to_be_hidden()

    # The device cannot sign in from Messages: the agent is told so in the conversation.
    request = agent.get_by_test_id("request-sign-in")
    choice = agent.get_by_test_id("sign-in-message")
    expect(choice.locator("option")).to_have_count(2)
    choice.select_option(label="Verify for a refund")
    request.click()
    expect(agent.get_by_test_id("conversation-error")).to_be_visible()
    expect(agent.get_by_test_id("console-error")).to_be_hidden()
    expect(request).to_be_enabled()

    device.text(live_url, "I can sign in now")
    expect(transcript.locator("[data-sender=visitor]")).to_have_count(2)
    request.click()
    expect(agent.get_by_test_id("conversation-error")).to_be_hidden()
    interactive = gateway.wait_for("authenticate", 1).body["interactiveData"]
    expect(request).to_be_enabled()
    assert interactive["receivedMessage"]["title"] == REFUND_SIGN_IN
    screenshot(agent, "console-apple-sign-in-requested")

    oauth2 = interactive["data"]["authenticate"]["oauth2"]
    browser_on_phone = new_page(390, 844)
    browser_on_phone.goto(
        f"{live_url}{apple_channel.callback_path}?code=provider-code&state={oauth2['state']}"
    )
    expect(browser_on_phone.locator("body")).to_contain_text("Signed in; return to Messages")
    device.post(live_url, device.sign_in_reply(interactive["data"]["requestIdentifier"]))
    authenticated = agent.get_by_test_id("summary-authenticated")
    expect(authenticated).to_contain_text("Yes (until")
    screenshot(agent, "console-apple-authenticated")

    expect(authenticated).to_have_text("No", timeout=(EXPIRY_SECONDS + 10) * 1000)
    expect(sent.last.get_by_test_id("delivery")).to_have_text("Not delivered", timeout=RETRIES_MS)
    expect(sent.first.get_by_test_id("delivery")).to_have_text("Delivered")
    screenshot(agent, "console-apple-lapsed")
