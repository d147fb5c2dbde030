"""An administrator clicks through each admin wizard in Chromium, as the seeds describe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from authsettings.models import AuthenticationSetting
from messaging.models import ChannelInstance, Deployment, RichMessage
from tests.browser.pages import screenshot, sign_in_admin

pytestmark = pytest.mark.browser
Type = AuthenticationSetting.Type


def next_step(page, expected: str) -> None:
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#wizard-step")).to_contain_text(expected)


def fill(page, step: str, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f"[name='{step}-{name}']").fill(value)


def start_setting_wizard(page, base: str, name: str, channel: str, kind: str) -> None:
    page.goto(f"{base}/admin/authsettings/authenticationsetting/")
    page.get_by_role("link", name="Add authentication setting").click()
    expect(page.locator("#wizard-step")).to_contain_text("Step 1 of 3: Channel type")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Channel type").select_option(label=channel)
    page.get_by_label("Authentication type").select_option(label=kind)


def finish(page) -> None:
    page.get_by_role("button", name="Finish").click()


def test_an_administrator_creates_each_live_chat_authentication_type(new_page, demo):
    page = new_page()
    sign_in_admin(page, demo)

    # A live chat offers only its own types, and defaults to the implicit flow.
    start_setting_wizard(page, demo, "Portal tokens", "Live chat", "OAuth 2.0 implicit flow")
    options = page.locator("select[name='channel-authentication_type'] option:not([hidden])")
    expect(options).to_have_text(["OAuth 2.0 implicit flow", "OAuth 2.0", "OpenID Connect"])
    next_step(page, "Step 2 of 3: Details")
    expect(page.get_by_text("auth.getAuthenticationToken").first).to_be_visible()
    fill(page, "implicit_details", {"public_key_url": "http://portal.example.com/key"})
    page.get_by_label("Javascript client function").fill("auth.getAuthenticationToken")
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".errorlist")).to_contain_text("Use an https URL")
    fill(page, "implicit_details", {"public_key_url": f"{demo}/portal/auth/keys"})
    next_step(page, "Step 3 of 3: Summary")
    screenshot(page, "wizard-setting-implicit-summary")
    finish(page)
    expect(page.locator(".messagelist")).to_contain_text('"Portal tokens" was added')
    screenshot(page, "wizard-setting-implicit-done")

    start_setting_wizard(page, demo, "Identity OAuth", "Live chat", "OAuth 2.0")
    next_step(page, "Step 2 of 3: Details")
    page.get_by_label("Token custom action").select_option("userinfo")
    fill(
        page,
        "oauth2_details",
        {
            "token_url": "https://id.example.com/token",
            "redirect_url": "https://portal.example.com/callback",
            "client_id": "portal",
            "client_secret": "browser-oauth-secret",
            "scope": "profile",
        },
    )
    next_step(page, "Step 3 of 3: Summary")
    expect(page.locator("#wizard-summary")).not_to_contain_text("browser-oauth-secret")
    finish(page)
    expect(page.locator(".messagelist")).to_contain_text('"Identity OAuth" was added')

    start_setting_wizard(page, demo, "Identity OIDC", "Live chat", "OpenID Connect")
    next_step(page, "Step 2 of 3: Details")
    fill(
        page,
        "openid_details",
        {
            "discovery_uri": "https://id.example.com/.well-known/openid-configuration",
            "client_id": "portal",
            "client_secret": "browser-oidc-secret",
            "scope": "profile",
        },
    )
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".errorlist")).to_contain_text("Include openid in the scope")
    fill(page, "openid_details", {"scope": "openid profile"})
    next_step(page, "Step 3 of 3: Summary")
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_text("A secret was entered; leave empty to keep it.")).to_be_visible()
    next_step(page, "Step 3 of 3: Summary")
    finish(page)
    expect(page.locator(".messagelist")).to_contain_text('"Identity OIDC" was added')

    assert AuthenticationSetting.objects.get(name="Identity OIDC").client_secret == (
        "browser-oidc-secret"
    )
    assert AuthenticationSetting.objects.get(name="Identity OAuth").token_custom_action == (
        "userinfo"
    )


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (Type.OAUTH2_CODE, "OAuth 2.0 code flow"),
        (Type.OAUTH2_OPENID_CONNECT, "OAuth 2.0 OpenID Connect flow"),
    ],
)
def test_an_administrator_creates_an_apple_setting_adding_its_rich_message_in_a_popup(
    new_page, demo, kind, label
):
    page = new_page()
    sign_in_admin(page, demo)
    start_setting_wizard(page, demo, f"Apple {label}", "Apple Messages for Business", label)
    options = page.locator("select[name='channel-authentication_type'] option:not([hidden])")
    expect(options).to_have_text(["OAuth 2.0 code flow", "OAuth 2.0 OpenID Connect flow"])
    next_step(page, "Step 2 of 5: Details")
    step = "apple_details" if kind == Type.OAUTH2_CODE else "apple_openid_details"
    fill(
        page,
        step,
        {
            "client_id": "apple",
            "client_secret": "browser-apple-secret",
            "scope": "openid email",
            "access_token_url": "https://id.example.com/token",
            "decrypted_token_url": "https://id.example.com/me",
        },
    )
    if kind == Type.OAUTH2_OPENID_CONNECT:
        fill(page, step, {"additional_parameters": "prompt=login"})
    next_step(page, "Step 3 of 5: Additional details")
    expect(page.get_by_text("Authenticated field turns to No")).to_be_visible()
    next_step(page, "Step 4 of 5: Rich messages")

    with page.expect_popup() as popup_info:
        page.locator("#add_id_rich_messages-rich_messages").click()
    popup = popup_info.value
    popup.get_by_label("Name").fill(f"Sign in ({label})")
    expect(popup.locator("#id_type")).to_have_value("authentication")
    popup.get_by_label("Content").fill(
        '{"received_message": "Please sign in", "reply_message": "Thanks, you are signed in"}'
    )
    popup.get_by_role("button", name="Save", exact=True).click()
    popup.wait_for_event("close")
    expect(page.locator("select[name='rich_messages-rich_messages'] option:checked")).to_have_text(
        f"Sign in ({label})"
    )
    next_step(page, "Step 5 of 5: Summary")
    screenshot(page, f"wizard-setting-{kind}-summary")
    finish(page)

    setting = AuthenticationSetting.objects.get(name=f"Apple {label}")
    assert [m.name for m in setting.rich_messages.all()] == [f"Sign in ({label})"]
    assert RichMessage.objects.get(name=f"Sign in ({label})").type == "authentication"
    expect(page.locator(".messagelist")).to_contain_text(f'"Apple {label}" was added')
    if kind == Type.OAUTH2_OPENID_CONNECT:
        callback = f"{demo}/apple/auth/{setting.pk}/callback"
        expect(page.locator("#redirect-url")).to_have_text(callback)
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo)
        page.get_by_role("button", name="Copy").click()
        expect(page.locator("#redirect-url-status")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == callback
        screenshot(page, f"wizard-setting-{kind}-done")
        page.get_by_role("link", name="Done").click()
        expect(page.locator("#test-setting")).to_be_visible()
    else:
        screenshot(page, f"wizard-setting-{kind}-done")


def test_an_administrator_sets_up_chat_and_copies_the_snippet(new_page, demo):
    page = new_page()
    sign_in_admin(page, demo)
    page.goto(f"{demo}/admin/messaging/channelinstance/")
    page.get_by_role("link", name="Set up chat").click()
    expect(page.locator("#wizard-step")).to_contain_text("Step 1 of 5: Workstream")
    page.get_by_label("New workstream name").fill("Sales chat")
    page.get_by_label("Default queue name").fill("Sales")
    next_step(page, "Step 2 of 5: Chat widget")
    page.get_by_label("Chat widget name").fill("Sales widget")
    next_step(page, "Step 3 of 5: Behaviours")
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".errorlist")).to_contain_text("Choose an authentication setting")
    page.get_by_label("Authentication setting").select_option(label="Sample portal")
    page.get_by_label("Allow session upgrade").check()
    next_step(page, "Step 4 of 5: Deployment")
    page.get_by_label("Deployment name").fill("Sales site")
    page.get_by_label("Allowed domains").fill("sales.example.com\nwww.example.com")
    next_step(page, "Step 5 of 5: Summary")
    expect(page.locator("#wizard-summary")).to_contain_text("Sales widget")
    screenshot(page, "wizard-chat-summary")
    finish(page)

    deployment = Deployment.objects.get(name="Sales site")
    expect(page.locator(".messagelist")).to_contain_text("Paste the snippet")
    snippet = (
        f'<script src="{demo}/widget/loader.js" '
        f'data-deployment-id="{deployment.deployment_id}" async></script>'
    )
    expect(page.locator("#deployment-snippet")).to_have_text(snippet)
    expect(page.locator("#mobile-deployment-id")).to_have_text(str(deployment.deployment_id))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo)
    page.locator("button[data-copy='deployment-snippet']").click()
    expect(page.locator("#deployment-snippet-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    screenshot(page, "wizard-chat-done")
    widget = deployment.channel_instance
    assert widget.workstream.name == "Sales chat"
    assert widget.authentication_setting.name == "Sample portal"
    assert widget.allow_session_upgrade


def test_an_administrator_sets_up_an_apple_channel(new_page, demo):
    RichMessage.objects.create(
        name="Apple sign in",
        type=RichMessage.Type.AUTHENTICATION,
        content={"received_message": "Sign in", "reply_message": "Thanks"},
    )
    page = new_page()
    sign_in_admin(page, demo)
    start_setting_wizard(
        page, demo, "Contoso sign-in", "Apple Messages for Business", "OAuth 2.0 code flow"
    )
    next_step(page, "Step 2 of 5: Details")
    fill(
        page,
        "apple_details",
        {
            "client_id": "apple",
            "client_secret": "apple-secret",
            "scope": "email",
            "access_token_url": "https://id.example.com/token",
            "decrypted_token_url": "https://id.example.com/me",
        },
    )
    next_step(page, "Step 3 of 5: Additional details")
    next_step(page, "Step 4 of 5: Rich messages")
    page.get_by_label("Rich messages").select_option(label="Apple sign in")
    next_step(page, "Step 5 of 5: Summary")
    finish(page)

    page.goto(f"{demo}/admin/messaging/channelinstance/")
    page.get_by_role("link", name="Set up Apple Messages for Business").click()
    expect(page.locator("#wizard-step")).to_contain_text("Step 1 of 4: Workstream")
    page.get_by_label("New workstream name").fill("Apple support")
    next_step(page, "Step 2 of 4: Account details")
    page.get_by_label("Business ID").fill("9a8b7c6d-1234-4e5f-a6b7-c8d9e0f1a2b3")
    page.get_by_label("Account name").fill("Contoso on Apple")
    next_step(page, "Step 3 of 4: Behaviours")
    options = page.locator("select[name='behaviours-authentication_setting'] option")
    # Apple settings only: the demo's and the one just made.
    expect(options).to_have_text(["---------", "Apple sign-in", "Contoso sign-in"])
    page.get_by_label("Authentication", exact=True).check()
    page.get_by_label("Authentication setting").select_option(label="Contoso sign-in")
    next_step(page, "Step 4 of 4: Summary")
    screenshot(page, "wizard-apple-summary")
    finish(page)
    expect(page.locator(".messagelist")).to_contain_text('"Contoso on Apple" was added')
    screenshot(page, "wizard-apple-done")
    channel = ChannelInstance.objects.get(name="Contoso on Apple")
    assert channel.business_id == "9a8b7c6d-1234-4e5f-a6b7-c8d9e0f1a2b3"
    assert channel.authentication_setting.name == "Contoso sign-in"


def test_an_administrator_sets_up_a_chat_for_apps_that_follows_signed_in_customers(new_page, demo):
    page = new_page()
    sign_in_admin(page, demo)
    page.goto(f"{demo}/admin/messaging/channelinstance/")
    page.get_by_role("link", name="Set up chat").click()
    page.get_by_label("Existing workstream").select_option(label="Web chat")
    next_step(page, "Step 2 of 5: Chat widget")
    page.get_by_label("Chat widget name").fill("App chat")
    next_step(page, "Step 3 of 5: Behaviours")
    page.get_by_label("Authentication setting").select_option(label="Sample portal")
    page.get_by_label("Persistent conversations").check()
    page.get_by_label("On logout").select_option(value="end")
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".errorlist")).to_contain_text("Only a code flow")
    screenshot(page, "wizard-chat-behaviours-on-logout-refused")
    page.get_by_label("Authentication setting").select_option(label="Portal code sign-in")
    next_step(page, "Step 4 of 5: Deployment")
    page.get_by_label("Deployment name").fill("Phone app")
    page.get_by_label("Allow mobile apps").check()
    screenshot(page, "wizard-chat-deployment-mobile")
    next_step(page, "Step 5 of 5: Summary")
    expect(page.locator("#wizard-summary")).to_contain_text("Allow mobile apps")
    screenshot(page, "wizard-chat-summary-mobile")
    finish(page)

    deployment = Deployment.objects.get(name="Phone app")
    assert deployment.allow_mobile_apps
    widget = deployment.channel_instance
    assert widget.persistent_conversations
    assert widget.on_logout == ChannelInstance.OnLogout.END
    page.goto(f"{demo}/admin/messaging/channelinstance/{widget.pk}/change/")
    expect(page.get_by_label("Persistent conversations")).to_be_checked()
    screenshot(page, "admin-channel-instance-sessions")
    page.goto(f"{demo}/admin/messaging/deployment/{deployment.pk}/change/")
    expect(page.get_by_label("Allow mobile apps")).to_be_checked()
    screenshot(page, "admin-deployment-mobile")
