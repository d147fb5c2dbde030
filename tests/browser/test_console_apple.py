"""An Apple Messages for Business conversation in the agent console, end to end: the customer's
messages arrive at /apple/message as Apple's gateway sends them, the agent's go to a gateway
stand-in on loopback, and the console shows what the agent needs at each step: the channel and
the customer's opaque id, each message's delivery, the customer typing, a refused sign-in
request, then the sign-in turning Authenticated to Yes and, at its expiry, to No."""

from __future__ import annotations

import base64
import gzip
import json
import secrets
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from playwright.sync_api import expect

from authsettings.models import AuthenticationSetting
from messaging.models import ChannelInstance
from tests.browser.pages import PASSWORDS, screenshot, sign_in_agent
from tests.helpers import APPLE, Type, authentication_rich_message, make_agent, make_setting
from tests.keyserver import KeyServer, send
from tests.live import serving_platform
from workstreams.models import Queue, Workstream

pytestmark = pytest.mark.browser

MSP_ID = "msp-console-test"
MSP_SECRET = base64.b64encode(secrets.token_bytes(32)).decode()
BUSINESS_ID = "console-test-business"
CUSTOMER_ID = "urn:mbid:AQAAY6Mj5z2Xr0cPt8nLsHmRZ3vnsWzGJc0kQpP1wZ4mKb7vYx2sEF9qTn3hUoL8dA"
UNDELIVERABLE = "This one the gateway refuses"
# A failed send is retried for at least 30 seconds before it is marked failed.
RETRIES_MS = 60_000
EXPIRY_SECONDS = 8


@pytest.fixture(scope="module")
def gateway(_running_key_server: KeyServer) -> KeyServer:
    """Apple's gateway and the customer's identity provider, on one loopback server."""
    _running_key_server.reset()
    return _running_key_server


@pytest.fixture(scope="module")
def live_url(django_db_setup, django_db_blocker, tmp_path_factory, gateway) -> Iterator[str]:
    """The platform as its MSP, sending to the stand-in gateway. Its own server: the package's
    one is started without the MSP settings, which are read in the server process."""
    with serving_platform(
        django_db_blocker,
        tmp_path_factory.mktemp("var"),
        APPLE_MSP_ID=MSP_ID,
        APPLE_MSP_SECRET=base64.b64decode(MSP_SECRET),
        APPLE_GATEWAY_URL=gateway.url("/gateway"),
    ) as server:
        yield server.url


class Device:
    """The customer's iPhone as Apple's gateway relays it: POSTs to /apple/message."""

    def __init__(self, base: str):
        self.base = base
        self.capabilities = "LIST"

    def post(self, kind: str, **fields: object) -> None:
        message_id = str(uuid.uuid4())
        body = {
            "id": message_id,
            "type": kind,
            "sourceId": CUSTOMER_ID,
            "destinationId": BUSINESS_ID,
            "v": 1,
            **fields,
        }
        now = int(time.time())
        token = jwt.encode(
            {"aud": MSP_ID, "iat": now, "exp": now + 60},
            base64.b64decode(MSP_SECRET),
            algorithm="HS256",
        )
        request = urllib.request.Request(  # noqa: S310 - the live server on loopback
            f"{self.base}/apple/message",
            data=gzip.compress(json.dumps(body).encode()),
            method="POST",
            headers={
                "Authorization": f"Bearer {token}",
                "id": message_id,
                "source-id": CUSTOMER_ID,
                "destination-id": BUSINESS_ID,
                "capability-list": self.capabilities,
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            assert answer.status == 200

    def write(self, text: str) -> None:
        self.post("text", body=text)


class SignInRequests:
    """The gateway's /authenticate: keeps each interactive message the platform sends."""

    def __init__(self, gateway: KeyServer):
        self.received: list[dict] = []
        self.arrived = threading.Event()
        gateway.serve_with("/gateway/authenticate", self.answer)

    def answer(self, handler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        self.received.append(json.loads(body))
        send(handler, 200, b"{}", {"Content-Type": "application/json"})
        self.arrived.set()

    def next(self) -> dict:
        assert self.arrived.wait(timeout=15), "no authentication message reached the gateway"
        self.arrived.clear()
        return self.received[-1]["interactiveData"]


def refuse_marked_messages(handler) -> None:
    """The gateway's /message: accepts every text but the one the test wants undelivered."""
    body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
    refused = UNDELIVERABLE in json.loads(body).get("body", "")
    send(handler, 503 if refused else 200, b"{}", {"Content-Type": "application/json"})


@pytest.fixture
def apple_channel(live_url, transactional_db, gateway) -> AuthenticationSetting:
    """An Apple channel instance whose OpenID Connect setting has two sign-in messages, and
    the agent on its queue."""
    gateway.serve_with("/gateway/message", refuse_marked_messages)
    gateway.serve("/idp/token", {"access_token": "provider-access-token", "token_type": "Bearer"})
    gateway.serve("/idp/me", {"sub": "apple-customer-7"})
    # Playwright's sync API runs an event loop on this thread, where the live events these
    # writes send on commit (async_to_sync) cannot run: the writes get a thread of their own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_apple_channel, gateway).result()


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
    setting.rich_messages.add(authentication_rich_message(name="Verify for a refund"))
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
    sign_ins = SignInRequests(gateway)
    device = Device(live_url)
    device.write("Hi, I need help with my order")

    agent = new_page()
    sign_in_agent(agent, live_url)
    waiting = agent.get_by_test_id("waiting-conversation")
    expect(waiting).to_contain_text("Apple Messages for Business")
    expect(waiting).to_contain_text(CUSTOMER_ID)
    expect(waiting).to_contain_text("Not authenticated")
    screenshot(agent, "console-apple-waiting")
    waiting.get_by_test_id("accept").click()

    expect(agent.get_by_test_id("summary-channel-kind")).to_have_text("Apple Messages for Business")
    expect(agent.get_by_test_id("summary-customer-id")).to_have_text(CUSTOMER_ID)
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

    device.post("typing_start")
    expect(agent.get_by_test_id("typing")).to_be_visible()
    device.post("typing_end")
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

    device.capabilities = "AUTH,AUTH2,LIST"
    device.write("I can sign in now")
    expect(transcript.locator("[data-sender=visitor]")).to_have_count(2)
    request.click()
    expect(agent.get_by_test_id("conversation-error")).to_be_hidden()
    interactive = sign_ins.next()
    expect(request).to_be_enabled()
    assert interactive["receivedMessage"]["title"] == "Please sign in"
    screenshot(agent, "console-apple-sign-in-requested")

    oauth2 = interactive["data"]["authenticate"]["oauth2"]
    browser_on_phone = new_page(390, 844)
    browser_on_phone.goto(
        f"{live_url}{apple_channel.callback_path}?code=provider-code&state={oauth2['state']}"
    )
    expect(browser_on_phone.locator("body")).to_contain_text("Signed in; return to Messages")
    device.post(
        "interactive",
        interactiveData={
            "data": {
                "requestIdentifier": interactive["data"]["requestIdentifier"],
                "authenticate": {"status": "authenticated"},
            }
        },
    )
    authenticated = agent.get_by_test_id("summary-authenticated")
    expect(authenticated).to_contain_text("Yes (until")
    screenshot(agent, "console-apple-authenticated")

    expect(authenticated).to_have_text("No", timeout=(EXPIRY_SECONDS + 10) * 1000)
    expect(sent.last.get_by_test_id("delivery")).to_have_text("Not delivered", timeout=RETRIES_MS)
    expect(sent.first.get_by_test_id("delivery")).to_have_text("Delivered")
    screenshot(agent, "console-apple-lapsed")
