"""Code-flow sign-in end to end: a visitor of a page signs in at the platform's own OpenID
Connect provider (/o/, PKCE), the page hands the authorization code to the widget, the widget
exchanges it with the platform and chats as the signed-in user; refreshes and sign-outs."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from authsettings.models import AuthenticationSetting, WidgetSignIn
from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Conversation, Deployment
from tests.browser.pages import (
    CODE_RECEIVED,
    SignInCalls,
    open_widget,
    screenshot,
    set_widget_state,
    sign_in_at_platform,
    wait_for_widget_event,
    widget_events,
    widget_state,
)
from tests.helpers import deploy, make_chat_widget
from tests.live import platform_client
from workstreams.models import Queue, Workstream

pytestmark = pytest.mark.browser

USERNAME = "dana"
PASSWORD = "dana's portal password 1"
QUESTION = "Hello, where is my order?"


@dataclass(frozen=True)
class Chat:
    url: str  # the page under test
    user: object
    setting: AuthenticationSetting
    widget: ChannelInstance
    deployment: Deployment


@pytest.fixture
def chat(live_url, transactional_db, django_user_model) -> Chat:
    """A customer (not staff), the platform's provider as an OpenID Connect provider of a chat
    widget, and the portal's page that embeds the widget's deployment."""
    user = django_user_model.objects.create_user(
        USERNAME, "dana@example.com", PASSWORD, first_name="Dana", last_name="Demo"
    )
    page_url = f"{live_url}/portal/oidc/"
    application, client_secret = platform_client(page_url, name="Portal chat")
    setting = AuthenticationSetting.objects.create(
        name="Platform sign-in",
        channel_type=ChannelType.LIVE_CHAT,
        authentication_type=AuthenticationSetting.Type.OPENID_CONNECT,
        discovery_uri=f"{live_url}/o/.well-known/openid-configuration",
        client_id=application.client_id,
        client_secret=client_secret,
        scope="openid",
    )
    workstream = Workstream.objects.create(name="Web chat", channel_type=ChannelType.LIVE_CHAT)
    workstream.default_queue = Queue.objects.create(name="General", workstream=workstream)
    workstream.save()
    widget = make_chat_widget(
        workstream, authentication_setting=setting, require_authentication=True
    )
    deployment = deploy(widget, name="Portal chat", site="127.0.0.1")
    return Chat(page_url, user, setting, widget, deployment)


def chat_signed_in(new_page, chat: Chat):
    """A page whose visitor signed in at the provider, opened the widget and said hello;
    and the sign-in calls it made."""
    page = new_page()
    calls = SignInCalls(page)
    page.goto(chat.url)
    sign_in_at_platform(page, USERNAME, PASSWORD)
    open_widget(page)
    pane = page.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    page.get_by_role("textbox", name="Message").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text([QUESTION])
    return page, calls


def error_codes(page) -> list[str]:
    return [event["code"] for event in widget_events(page, "error")]


def test_a_visitor_signed_in_at_the_platforms_provider_chats_as_that_user(chat, new_page):
    page, calls = chat_signed_in(new_page, chat)

    conversation = Conversation.objects.get(channel_instance=chat.widget)
    assert conversation.authenticated
    assert conversation.subject == str(chat.user.pk)
    assert conversation.authentication["setting"] == chat.setting.pk
    assert calls.actions() == ["exchange"]
    (exchange,) = calls.requests
    grant = exchange.post_data_json
    assert set(grant) == {"code", "redirect_uri", "code_verifier", "nonce"}
    assert grant["redirect_uri"] == chat.url
    assert 43 <= len(grant["code_verifier"]) <= 128
    assert "cookie" not in exchange.all_headers()
    # The code went to the widget only: not left in the address bar, nor kept by the widget.
    assert page.url == chat.url
    state = widget_state(page, chat.deployment.deployment_id)
    assert state["conversation"] == str(conversation.pk)
    assert state["signIn"]["refreshToken"]
    assert grant["code"] not in str(state)
    screenshot(page, "widget-code-flow-chat")

    # A reload resumes the conversation; nothing is exchanged or refreshed again.
    page.reload()
    pane = page.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-from-visitor .cc-text")).to_have_text([QUESTION])
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    assert calls.actions() == ["exchange"]
    assert error_codes(page) == []


def test_a_session_token_about_to_expire_is_refreshed_before_the_next_chat_starts(chat, new_page):
    page, calls = chat_signed_in(new_page, chat)
    first_hash = WidgetSignIn.objects.get().refresh_hash
    # A new chat in the same tab, 20 seconds before the session token runs out.
    state = widget_state(page, chat.deployment.deployment_id)
    expiring = {**state["signIn"], "expiresAt": time.time() * 1000 + 20_000}
    set_widget_state(page, chat.deployment.deployment_id, {"signIn": expiring})
    page.reload()
    open_widget(page)

    pane = page.get_by_role("dialog", name="Chat with us")
    expect(pane.locator(".cc-identity")).to_have_text("Signed in")
    assert calls.actions() == ["exchange", "refresh"]
    assert calls.requests[1].post_data_json == {"refresh_token": expiring["refreshToken"]}
    sign_in = WidgetSignIn.objects.get()
    assert sign_in.refresh_hash != first_hash and sign_in.revoked_at is None
    renewed = widget_state(page, chat.deployment.deployment_id)["signIn"]
    assert renewed["refreshToken"] != expiring["refreshToken"]
    conversations = Conversation.objects.filter(channel_instance=chat.widget)
    assert [c.subject for c in conversations] == [str(chat.user.pk)] * 2


def test_a_signed_out_session_token_is_refused_as_revoked_and_the_visitor_signs_in_again(
    chat, new_page
):
    page, calls = chat_signed_in(new_page, chat)
    kept = widget_state(page, chat.deployment.deployment_id)["signIn"]

    page.evaluate("() => window.ContactCenter.clearSession()")

    assert calls.actions() == ["exchange", "logout"]
    assert calls.requests[1].post_data_json == {"refresh_token": kept["refreshToken"]}
    assert WidgetSignIn.objects.get().revoked_reason == WidgetSignIn.RevokedReason.LOGOUT
    assert widget_state(page, chat.deployment.deployment_id) is None

    # A tab that still had the session token (put back here) starts a chat with it.
    set_widget_state(page, chat.deployment.deployment_id, {"signIn": kept})
    page.reload()
    open_widget(page)
    expect(page.locator(".cc-alert")).to_contain_text(
        "You have been signed out. Please sign in again."
    )
    assert error_codes(page) == ["token_revoked"]
    (event,) = widget_events(page, "error")
    assert event["detail"]
    screenshot(page, "widget-code-flow-revoked")

    # Trying again: the refresh is refused too, so the widget asks the page for a new code;
    # the visitor is still signed in at the provider and comes straight back with one.
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_test_id("oidc-state")).to_have_text(CODE_RECEIVED)
    open_widget(page)
    expect(page.get_by_role("dialog", name="Chat with us").locator(".cc-identity")).to_have_text(
        "Signed in"
    )
    assert calls.actions() == ["exchange", "logout", "refresh", "exchange"]
    assert WidgetSignIn.objects.filter(revoked_at__isnull=True).count() == 1


def open_with_provider(new_page, url: str, provider: str):
    """A page of the chat whose auth provider is replaced by `provider`, with the widget open;
    and the sign-in calls it made."""
    page = new_page()
    calls = SignInCalls(page)
    page.goto(url)
    wait_for_widget_event(page, "ready")
    page.evaluate(f"() => window.ContactCenter.setAuthTokenProvider({provider})")
    open_widget(page)
    return page, calls


def test_a_code_the_provider_refuses_is_reported_with_the_platforms_error_code(chat, new_page):
    page, calls = open_with_provider(
        new_page, f"{chat.url}?from=newsletter#chat", "async () => 'not-a-code-it-issued'"
    )

    expect(page.locator(".cc-alert")).to_contain_text("We couldn't verify your sign-in.")
    assert error_codes(page) == ["token_invalid"]
    # A bare code goes with this page's address, without its query and fragment.
    (exchange,) = calls.requests
    assert exchange.post_data_json == {"code": "not-a-code-it-issued", "redirect_uri": chat.url}
    assert not WidgetSignIn.objects.exists()


def test_a_provider_answer_without_a_code_is_a_provider_failure(chat, new_page):
    page, calls = open_with_provider(
        new_page, chat.url, "(callback) => callback({ code_verifier: 'v'.repeat(43) })"
    )

    expect(page.locator(".cc-alert")).to_contain_text("We couldn't get your sign-in")
    (event,) = widget_events(page, "error")
    assert (event["code"], event["detail"]) == (
        "provider_failed",
        "The page's sign-in has no code string.",
    )
    assert calls.requests == []
