"""The "New authentication setting" wizard, walked step by step as an administrator would."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from messaging.models import RichMessage
from tests.helpers import PASSWORD, make_setting
from tests.wizards import WizardWalk, current_step, field_errors

Type = AuthenticationSetting.Type
URL = "/admin/authsettings/authenticationsetting/add/"
SECRET = "wizard-s3cret-value"
LIVE = ChannelType.LIVE_CHAT
APPLE = ChannelType.APPLE_MESSAGES_FOR_BUSINESS
OAUTH2_DETAILS = {
    "token_custom_action": "userinfo",
    "token_url": "https://id.example.com/token",
    "redirect_url": "https://portal.example.com/callback",
    "client_id": "portal",
    "client_secret": SECRET,
    "scope": "profile",
}
OPENID_DETAILS = {
    "discovery_uri": "https://id.example.com/.well-known/openid-configuration",
    "client_id": "portal",
    "client_secret": SECRET,
    "scope": "openid",
    "max_refresh_token_lifetime_seconds": "86400",
}


@pytest.fixture
def wizard(client, alice):
    return WizardWalk.started_by(client, alice, URL, "authentication_setting_wizard")


@pytest.fixture
def wizard_for_diane(client, diane):
    """The wizard started by diane, who may add settings but not set their secrets."""
    diane.user_permissions.add(Permission.objects.get(codename="add_authenticationsetting"))
    return WizardWalk.started_by(client, diane, URL, "authentication_setting_wizard")


def channel(name="Portal sign-in", channel_type=LIVE, kind=Type.OAUTH2_IMPLICIT, owner=None):
    return {"name": name, "channel_type": channel_type, "authentication_type": kind} | (
        {"owner": owner.pk} if owner else {}
    )


def assert_added(response, setting, user):
    assert response.status_code == 302
    entry = LogEntry.objects.get(object_id=str(setting.pk))
    assert entry.action_flag == ADDITION
    assert entry.user == user


def test_the_add_button_opens_the_wizard_on_its_first_step(client, alice):
    client.force_login(alice)
    response = client.get(URL)
    assert response.status_code == 200
    assert current_step(response) == "Step 1 of 3: Channel type"
    form = response.context["wizard"]["form"]
    assert form.initial["owner"] == alice.pk
    assert form.initial["authentication_type"] == Type.OAUTH2_IMPLICIT


def test_an_implicit_flow_setting_is_created_in_three_steps(wizard, alice):
    response = wizard.post("channel", channel(owner=alice))
    assert current_step(response) == "Step 2 of 3: Details"
    assert "auth.getAuthenticationToken" in response.content.decode()
    response = wizard.post(
        "implicit_details",
        {
            "public_key_url": "https://portal.example.com/auth/publickey",
            "javascript_client_function": "auth.getAuthenticationToken",
            "expected_issuer": "https://portal.example.com",
        },
    )
    assert current_step(response) == "Step 3 of 3: Summary"
    page = response.content.decode()
    assert "https://portal.example.com/auth/publickey" in page
    assert not AuthenticationSetting.objects.exists()

    response = wizard.post("summary")

    setting = AuthenticationSetting.objects.get(name="Portal sign-in")
    assert setting.authentication_type == Type.OAUTH2_IMPLICIT
    assert setting.owner == alice
    assert setting.expected_issuer == "https://portal.example.com"
    assert_added(response, setting, alice)
    assert response["Location"] == f"/admin/authsettings/authenticationsetting/{setting.pk}/change/"
    page = wizard.client.get(response["Location"]).content.decode()
    assert "Portal sign-in" in page and "was added" in page


def test_the_wizard_links_contacts_unless_unticked_and_takes_an_expected_audience(wizard):
    first = wizard.client.get(URL).content.decode()
    [box] = re.findall(r'<input type="checkbox" name="channel-link_contacts"[^>]*>', first)
    assert "checked" in box
    wizard.post("channel", channel(name="Partner site"))
    wizard.post(
        "implicit_details",
        {
            "public_key_url": "https://partner.example.com/keys",
            "javascript_client_function": "auth.getToken",
            "expected_audience": "https://chat.example.com",
        },
    )

    wizard.post("summary")

    setting = AuthenticationSetting.objects.get(name="Partner site")
    assert setting.expected_audience == "https://chat.example.com"
    assert setting.link_contacts is False


def test_an_oauth2_setting_keeps_its_secret_encrypted_until_finish(wizard, alice):
    wizard.post("channel", channel(kind=Type.OAUTH2))
    response = wizard.post("oauth2_details", OAUTH2_DETAILS)
    assert current_step(response) == "Step 3 of 3: Summary"
    session_text = str(dict(wizard.client.session))
    assert SECRET not in session_text
    page = response.content.decode()
    assert SECRET not in page
    assert "set" in [value for _, value in dict(response.context["summary_rows"])["Details"]]

    response = wizard.post("summary")

    setting = AuthenticationSetting.objects.get()
    assert setting.client_secret == SECRET
    assert setting.token_custom_action == "userinfo"
    assert_added(response, setting, alice)


def test_an_openid_connect_setting_needs_openid_in_its_scope_on_the_details_step(wizard):
    wizard.post("channel", channel(kind=Type.OPENID_CONNECT))
    details = OPENID_DETAILS | {"scope": "profile", "max_refresh_token_lifetime_seconds": "600"}
    response = wizard.post("openid_details", details)
    assert current_step(response) == "Step 2 of 3: Details"
    errors = field_errors(response)
    assert errors["scope"] == ["Include openid in the scope for an OpenID Connect flow."]
    assert "max_refresh_token_lifetime_seconds" in errors
    assert SECRET not in response.content.decode()

    # The secret typed before is kept: the box stays empty and says so.
    assert "A secret was entered; leave empty to keep it." in response.content.decode()
    details["client_secret"] = ""
    response = wizard.post(
        "openid_details",
        details | {"scope": "openid profile", "max_refresh_token_lifetime_seconds": "86400"},
    )
    assert current_step(response) == "Step 3 of 3: Summary"
    wizard.post("summary")
    assert AuthenticationSetting.objects.get().client_secret == SECRET


def test_a_secret_typed_once_is_kept_when_a_later_error_sends_the_step_back(wizard):
    wizard.post("channel", channel(kind=Type.OPENID_CONNECT))
    details = OPENID_DETAILS
    wizard.post("openid_details", details)
    response = wizard.back("summary", "openid_details")
    assert current_step(response) == "Step 2 of 3: Details"
    page = response.content.decode()
    assert SECRET not in page
    assert "A secret was entered; leave empty to keep it." in page
    response = wizard.post("openid_details", details | {"client_secret": ""})
    assert current_step(response) == "Step 3 of 3: Summary"
    wizard.post("summary")
    assert AuthenticationSetting.objects.get().client_secret == SECRET


@pytest.mark.parametrize("kind", [Type.OAUTH2_CODE, Type.OAUTH2_OPENID_CONNECT])
def test_an_apple_setting_walks_details_expiry_and_rich_messages(wizard, alice, kind):
    message = RichMessage.objects.create(
        name="Sign in",
        type=RichMessage.Type.AUTHENTICATION,
        content={"received_message": "Please sign in", "reply_message": "Thanks"},
    )
    response = wizard.post("channel", channel(channel_type=APPLE, kind=kind))
    assert current_step(response) == "Step 2 of 5: Details"
    details_step = "apple_details" if kind == Type.OAUTH2_CODE else "apple_openid_details"
    details = {
        "client_id": "apple",
        "client_secret": SECRET,
        "scope": "openid email",
        "access_token_url": "https://id.example.com/token",
        "decrypted_token_url": "https://id.example.com/me",
    }
    if kind == Type.OAUTH2_OPENID_CONNECT:
        details["additional_parameters"] = "prompt=login\nui_locales = en"
    response = wizard.post(details_step, details)
    assert current_step(response) == "Step 3 of 5: Additional details"
    assert "After this time the conversation's Authenticated field turns to No." in (
        response.content.decode()
    )
    response = wizard.post("additional", {"access_token_expiry_seconds": ""})
    assert current_step(response) == "Step 4 of 5: Rich messages"
    assert "/admin/messaging/richmessage/add/?" in response.content.decode()
    assert f'<option value="{message.pk}">Sign in</option>' in response.content.decode()
    response = wizard.post("rich_messages", {"rich_messages": [message.pk]})
    assert current_step(response) == "Step 5 of 5: Summary"

    response = wizard.post("summary")

    setting = AuthenticationSetting.objects.get()
    assert setting.access_token_expiry_seconds == 3600
    assert list(setting.rich_messages.all()) == [message]
    assert_added(response, setting, alice)
    if kind == Type.OAUTH2_OPENID_CONNECT:
        assert setting.additional_parameters == {"prompt": "login", "ui_locales": "en"}
        location = f"/admin/authsettings/authenticationsetting/{setting.pk}/redirect-information/"
        assert response["Location"] == location
        page = wizard.client.get(location).content.decode()
        assert f"http://testserver/apple/auth/{setting.pk}/callback" in page
        assert "Copy" in page
        change_page = wizard.client.get(location.replace("redirect-information", "change"))
        assert f"http://testserver/apple/auth/{setting.pk}/callback" in change_page.text
        assert change_page.context["adminform"].form.fields["redirect_url"].disabled
    else:
        assert response["Location"].endswith(f"/{setting.pk}/change/")


def test_an_apple_setting_needs_an_authentication_rich_message(wizard):
    quick_reply = RichMessage.objects.create(name="Menu", type=RichMessage.Type.QUICK_REPLY)
    wizard.post("channel", channel(channel_type=APPLE, kind=Type.OAUTH2_CODE))
    wizard.post(
        "apple_details",
        {
            "client_id": "apple",
            "client_secret": SECRET,
            "scope": "email",
            "access_token_url": "https://id.example.com/token",
            "decrypted_token_url": "https://id.example.com/me",
        },
    )
    response = wizard.post("additional", {"access_token_expiry_seconds": "30"})
    assert current_step(response) == "Step 3 of 5: Additional details"
    assert "access_token_expiry_seconds" in field_errors(response)
    wizard.post("additional", {"access_token_expiry_seconds": "7200"})
    response = wizard.post("rich_messages", {"rich_messages": [quick_reply.pk]})
    assert current_step(response) == "Step 4 of 5: Rich messages"
    assert field_errors(response)["rich_messages"] == [
        "Add at least one rich message of type authentication."
    ]


def test_each_step_shows_its_own_errors(wizard, implicit_setting):
    response = wizard.post(
        "channel", channel(name="Portal", channel_type=LIVE, kind=Type.OAUTH2_CODE)
    )
    assert current_step(response) == "Step 1 of 3: Channel type"
    errors = field_errors(response)
    assert errors["name"] == ["Authentication setting with this Name already exists."]
    assert errors["authentication_type"] == [
        "Live chat takes one of: OAuth 2.0 implicit flow, OAuth 2.0, OpenID Connect."
    ]
    assert "public_key_url" not in errors

    wizard.post("channel", channel())
    response = wizard.post(
        "implicit_details",
        {"public_key_url": "http://portal.example.com/key", "javascript_client_function": "a b"},
    )
    assert current_step(response) == "Step 2 of 3: Details"
    errors = field_errors(response)
    assert errors["public_key_url"][0].startswith("Use an https URL")
    assert errors["javascript_client_function"] == [
        "Give a dotted JavaScript name such as auth.getAuthenticationToken."
    ]


def test_back_keeps_the_values_of_both_steps(wizard):
    wizard.post("channel", channel(name="Keep me"))
    typed = {"public_key_url": "https://typed.example.com/key", "javascript_client_function": ""}
    response = wizard.back("implicit_details", "channel", typed)
    assert current_step(response) == "Step 1 of 3: Channel type"
    assert 'value="Keep me"' in response.content.decode()
    response = wizard.post("channel", channel(name="Keep me"))
    assert "https://typed.example.com/key" in response.content.decode()


def test_changing_the_channel_type_changes_the_steps_that_follow(wizard):
    wizard.post("channel", channel())
    wizard.back("implicit_details", "channel")
    response = wizard.post("channel", channel(channel_type=APPLE, kind=Type.OAUTH2_CODE))
    assert current_step(response) == "Step 2 of 5: Details"
    assert "access_token_url" in response.context["wizard"]["form"].fields


def test_a_setting_named_meanwhile_is_caught_at_finish_on_its_step(wizard):
    wizard.post("channel", channel(name="Race"))
    wizard.post(
        "implicit_details",
        {"public_key_url": "https://p.example.com/k", "javascript_client_function": "auth.get"},
    )
    make_setting(Type.OAUTH2_IMPLICIT, name="Race")
    response = wizard.post("summary")
    assert current_step(response) == "Step 1 of 3: Channel type"
    assert "name" in field_errors(response)
    assert AuthenticationSetting.objects.count() == 1


def test_a_user_without_the_secret_permission_creates_only_implicit_settings(wizard_for_diane):
    response = wizard_for_diane.post("channel", channel(kind=Type.OAUTH2))
    assert "permission to set client secrets" in field_errors(response)["authentication_type"][0]
    response = wizard_for_diane.post("channel", channel())
    assert current_step(response) == "Step 2 of 3: Details"


def test_an_outsider_is_sent_to_the_login_page(client, charlie):
    client.force_login(charlie)
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_wizard_finishes_in_a_popup_by_handing_the_new_setting_to_the_opener(client, alice):
    client.login(username="alice", password=PASSWORD)
    walk = WizardWalk(client, URL + "?_popup=1&_to_field=id", "authentication_setting_wizard_popup")
    response = walk.start(_popup="1", _to_field="id", channel_type=APPLE)
    assert 'name="_popup"' in response.content.decode()
    assert response.context["wizard"]["form"].initial["channel_type"] == APPLE
    walk.post("channel", channel(name="From popup"), _popup="1", _to_field="id")
    walk.post(
        "implicit_details",
        {"public_key_url": "https://p.example.com/k", "javascript_client_function": "auth.get"},
        _popup="1",
        _to_field="id",
    )
    response = walk.post("summary", _popup="1", _to_field="id")
    setting = AuthenticationSetting.objects.get(name="From popup")
    assert response.status_code == 200
    assert "popup_response" in response.content.decode()
    assert str(setting.pk) in response.content.decode()


def test_a_popup_cannot_hand_back_a_field_it_may_not_reference(client, alice):
    client.force_login(alice)
    url = URL + "?_popup=1&_to_field=client_secret"
    assert client.get(url).status_code == 400
    walk = WizardWalk(client, URL + "?_popup=1", "authentication_setting_wizard_popup")
    walk.start()
    response = walk.post("channel", channel(), _popup="1", _to_field="client_secret")
    assert response.status_code == 400
    assert not AuthenticationSetting.objects.exists()


@pytest.mark.parametrize("step", ["nonexistent", "oauth2_details"])
def test_a_step_this_run_does_not_have_is_refused(wizard, step):
    wizard.post("channel", channel())
    response = wizard.post(step, {"client_secret": SECRET})
    assert response.status_code == 400
    assert SECRET not in str(dict(wizard.client.session))


def test_a_secret_posted_from_a_stale_tab_never_reaches_the_session_in_plaintext(wizard):
    details = OAUTH2_DETAILS
    wizard.post("channel", channel(kind=Type.OAUTH2))
    wizard.post("oauth2_details", details)
    # The summary is showing; an older tab still on the details step goes back.
    response = wizard.back("oauth2_details", "channel", details | {"client_secret": "other"})
    assert current_step(response) == "Step 1 of 3: Channel type"
    session = str(dict(wizard.client.session))
    assert SECRET not in session and "'other'" not in session
    stored = wizard.client.session["wizard_authentication_setting_wizard"]["step_data"]
    for step, data in stored.items():
        assert all(name.startswith(f"{step}-") for name in data), step


def test_a_type_refused_for_want_of_permission_shows_one_reason(wizard_for_diane):
    response = wizard_for_diane.post("channel", channel(kind=Type.OAUTH2))
    assert len(field_errors(response)["authentication_type"]) == 1
