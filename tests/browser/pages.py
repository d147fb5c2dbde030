"""What the browser tests do on the portal, the widget and the agent console."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from messaging.models import ChannelInstance, Conversation
from tests.live import DEMO_PASSWORDS

SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"
CODE_RECEIVED = "You are signed in. Open the chat to talk to us."
PASSWORDS = DEMO_PASSWORDS


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in_customer(page, base: str) -> None:
    page.goto(f"{base}/portal/login")
    page.get_by_label("Username").fill("customer")
    page.get_by_label("Password").fill(PASSWORDS["customer"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/portal/")


def sign_in_admin(page, base: str) -> None:
    _log_in_staff(page, base, "admin", "/admin/")


def sign_in_agent(page, base: str) -> None:
    _log_in_staff(page, base, "agent", "/agent/")


def _log_in_staff(page, base: str, username: str, area: str) -> None:
    """The admin's and the agent console's login pages, which lead on to `area`."""
    page.goto(f"{base}{area}login/?next={area}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}{area}")


def sign_in_at_platform(page, username: str, password: str) -> None:
    """On the portal's OpenID Connect page: sign in at the platform's provider and come back
    with an authorization code for the widget."""
    page.get_by_role("button", name="Sign in to chat").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("oidc-state")).to_have_text(CODE_RECEIVED)


def widget_state(page, deployment_id) -> dict | None:
    """What the widget keeps in the tab's sessionStorage: conversation and sign-in."""
    return page.evaluate(
        "(key) => JSON.parse(sessionStorage.getItem(key))", f"contactcenter:{deployment_id}"
    )


def set_widget_state(page, deployment_id, state: dict) -> None:
    page.evaluate(
        "([key, state]) => sessionStorage.setItem(key, JSON.stringify(state))",
        [f"contactcenter:{deployment_id}", state],
    )


class SignInCalls:
    """The page's POSTs to the widget's code-flow endpoints (/widget/<id>/auth/<action>)."""

    PATH = re.compile(r"/widget/[^/]+/auth/(exchange|refresh|logout)$")

    def __init__(self, page):
        self.requests = []
        page.on("request", self.record)

    def record(self, request) -> None:
        if request.method == "POST" and self.PATH.search(request.url):
            self.requests.append(request)

    def actions(self) -> list[str]:
        return [self.PATH.search(request.url).group(1) for request in self.requests]


def widget_events(page, kind: str) -> list[dict]:
    return page.evaluate("(kind) => window.ccEvents.filter((event) => event.type === kind)", kind)


# Waits in the page for a widget event. Not page.wait_for_function(), whose polling compiles
# its predicate with eval(), which the platform's content security policy forbids.
WAIT_FOR_EVENT = """
(kind) => new Promise((resolve, reject) => {
  if (window.ccEvents.some((event) => event.type === kind)) {
    resolve();
  } else {
    window.addEventListener("contactcenter:" + kind, () => resolve(), { once: true });
    setTimeout(() => reject(new Error("no contactcenter:" + kind + " within 15 s")), 15000);
  }
})
"""


def wait_for_widget_event(page, kind: str) -> None:
    page.evaluate(WAIT_FOR_EVENT, kind)


def open_widget(page) -> None:
    wait_for_widget_event(page, "ready")
    page.get_by_role("button", name="Open chat").click()


class NetworkSwitch:
    """Passes a page's WebSockets matching `pattern` through to the server until switched
    off, which drops them and refuses new ones, as a network outage does. Keeps the frames
    the page sent."""

    def __init__(self, page, pattern: str):
        self.online = True
        self.sockets = []
        self.sent: list[dict] = []
        page.route_web_socket(re.compile(pattern), self.route)

    def route(self, socket) -> None:
        if not self.online:
            socket.close(code=1011)
            return
        server = socket.connect_to_server()

        def forward(message) -> None:
            self.sent.append(json.loads(message))
            server.send(message)

        socket.on_message(forward)
        self.sockets.append((socket, server))

    def off(self) -> None:
        self.online = False
        for socket, server in self.sockets:
            server.close()
            socket.close(code=1011)
        self.sockets.clear()

    def on(self) -> None:
        self.online = True


def offer_guest_chat() -> None:
    """The demo's portal chat, taking guests: a chat starts without signing in."""
    ChannelInstance.objects.filter(name="Portal chat").update(require_authentication=False)


def start_guest_chat(page, base: str, text: str) -> None:
    """On the portal, not signed in: open the chat and write `text`."""
    page.goto(f"{base}/portal/")
    open_widget(page)
    page.get_by_role("textbox", name="Message").fill(text)
    page.keyboard.press("Enter")
    pane = page.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text([text])


def close_behind_the_scenes(conversation_text: str) -> None:
    """Close the conversation holding a visitor's `conversation_text` without telling any
    socket, as happens to a socket that is down at the time."""
    Conversation.objects.filter(messages__text=conversation_text).update(
        status=Conversation.Status.CLOSED, closed_at=timezone.now()
    )
