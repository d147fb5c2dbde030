"""The "Set up chat" and "Set up Apple Messages for Business" wizards, walked step by step."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Deployment
from tests.helpers import make_setting
from tests.wizards import WizardWalk, current_step, field_errors
from workstreams.models import Workstream

CHAT_URL = "/admin/messaging/channelinstance/setup-chat/"
APPLE_URL = "/admin/messaging/channelinstance/setup-apple/"
Type = AuthenticationSetting.Type


@pytest.fixture
def chat_wizard(client, alice):
    return WizardWalk.started_by(client, alice, CHAT_URL, "chat_setup_wizard")


@pytest.fixture
def apple_wizard(client, alice):
    return WizardWalk.started_by(client, alice, APPLE_URL, "apple_setup_wizard")


@pytest.fixture
def apple_setting(db):
    return make_setting(Type.OAUTH2_CODE, name="Apple sign-in")


def logged_additions() -> set[str]:
    return {
        f"{entry.content_type.model}:{entry.object_repr}"
        for entry in LogEntry.objects.filter(action_flag=ADDITION)
    }


def test_the_channel_instance_list_offers_both_wizards(client, alice):
    client.force_login(alice)
    page = client.get("/admin/messaging/channelinstance/").content.decode()
    assert CHAT_URL in page and APPLE_URL in page


def test_chat_is_set_up_on_an_existing_workstream_and_ends_on_the_snippet(
    chat_wizard, alice, workstream, implicit_setting
):
    response = chat_wizard.post("workstream", {"workstream": workstream.pk})
    assert current_step(response) == "Step 2 of 5: Chat widget"
    response = chat_wizard.post("widget", {"name": "Help chat"})
    assert current_step(response) == "Step 3 of 5: Behaviours"
    response = chat_wizard.post(
        "behaviours",
        {"authentication_setting": implicit_setting.pk, "require_authentication": "on"},
    )
    assert current_step(response) == "Step 4 of 5: Deployment"
    response = chat_wizard.post(
        "deployment",
        {"name": "Help site", "allowed_domains": "Help.Example.com\n\nwww.example.com\n"},
    )
    assert current_step(response) == "Step 5 of 5: Summary"
    summary = dict(response.context["summary_rows"])
    assert ("Workstream", "Web chat") in summary["Workstream"]
    assert ("Allowed domains", "Help.Example.com, www.example.com") in summary["Deployment"]

    response = chat_wizard.post("summary")

    widget = ChannelInstance.objects.get(name="Help chat")
    assert widget.kind == ChannelInstance.Kind.CHAT_WIDGET
    assert widget.workstream == workstream
    assert widget.authentication_setting == implicit_setting
    assert widget.require_authentication and not widget.allow_session_upgrade
    deployment = Deployment.objects.get(channel_instance=widget)
    assert deployment.allowed_domains == ["help.example.com", "www.example.com"]
    assert logged_additions() == {"channelinstance:Help chat", "deployment:Help site"}
    assert response.status_code == 302
    assert response["Location"] == f"/admin/messaging/deployment/{deployment.pk}/snippet/"
    page = chat_wizard.client.get(response["Location"]).content.decode()
    assert f"data-deployment-id=&quot;{deployment.deployment_id}&quot;" in page
    assert "&lt;script src=&quot;http://testserver/widget/loader.js&quot;" in page
    assert 'id="mobile-domain">testserver<' in page
    assert page.count(">Copy</button>") == 3
    assert "were added" in page


def test_chat_is_set_up_with_a_new_workstream_and_its_default_queue(chat_wizard):
    response = chat_wizard.post(
        "workstream", {"new_workstream_name": "Sales chat", "default_queue_name": "Sales"}
    )
    assert current_step(response) == "Step 2 of 5: Chat widget"
    chat_wizard.post("widget", {"name": "Sales widget"})
    chat_wizard.post("behaviours", {})
    chat_wizard.post("deployment", {"name": "Anywhere", "allow_all_domains": "on"})
    response = chat_wizard.post("summary")

    workstream = Workstream.objects.get(name="Sales chat")
    assert workstream.channel_type == ChannelType.LIVE_CHAT
    assert workstream.default_queue.name == "Sales"
    widget = ChannelInstance.objects.get(workstream=workstream)
    assert widget.authentication_setting is None and not widget.require_authentication
    assert Deployment.objects.get(channel_instance=widget).allow_all_domains
    assert logged_additions() == {
        "workstream:Sales chat",
        "queue:Sales chat / Sales",
        "channelinstance:Sales widget",
        "deployment:Anywhere",
    }
    assert response.status_code == 302


def test_each_chat_step_shows_its_own_errors(chat_wizard, workstream, apple_setting):
    response = chat_wizard.post("workstream", {})
    assert "new_workstream_name" in field_errors(response)
    response = chat_wizard.post(
        "workstream", {"workstream": workstream.pk, "new_workstream_name": "Both"}
    )
    assert field_errors(response)["__all__"] == [
        "Choose an existing workstream or name a new one, not both."
    ]
    chat_wizard.post("workstream", {"workstream": workstream.pk})
    response = chat_wizard.post("widget", {"name": ""})
    assert field_errors(response) == {"name": ["This field is required."]}
    chat_wizard.post("widget", {"name": "Help chat"})

    response = chat_wizard.post("behaviours", {"require_authentication": "on"})
    assert current_step(response) == "Step 3 of 5: Behaviours"
    assert field_errors(response) == {
        "require_authentication": [
            "Choose an authentication setting, or turn off require authentication."
        ]
    }
    # An Apple setting is not offered to a chat widget.
    response = chat_wizard.post("behaviours", {"authentication_setting": apple_setting.pk})
    assert "authentication_setting" in field_errors(response)
    assert "Apple sign-in" not in response.content.decode()
    chat_wizard.post("behaviours", {})

    response = chat_wizard.post(
        "deployment",
        {"name": "Site", "allowed_domains": "https://bad.example.com/x", "allow_all_domains": ""},
    )
    assert current_step(response) == "Step 4 of 5: Deployment"
    assert "allowed_domains" in field_errors(response)
    response = chat_wizard.post(
        "deployment",
        {"name": "Site", "allowed_domains": "a.example.com", "allow_all_domains": "on"},
    )
    assert field_errors(response)["allow_all_domains"] == [
        "Allow all domains only with an empty list of allowed domains."
    ]
    assert not ChannelInstance.objects.exists()


def test_back_keeps_what_was_typed_in_the_chat_wizard(chat_wizard, workstream):
    chat_wizard.post("workstream", {"workstream": workstream.pk})
    response = chat_wizard.back("widget", "workstream", {"name": "Typed widget"})
    assert current_step(response) == "Step 1 of 5: Workstream"
    assert f'<option value="{workstream.pk}" selected>' in response.content.decode()
    response = chat_wizard.post("workstream", {"workstream": workstream.pk})
    assert 'value="Typed widget"' in response.content.decode()


def test_the_behaviours_step_links_to_the_setting_wizard_for_live_chat(chat_wizard, workstream):
    chat_wizard.post("workstream", {"workstream": workstream.pk})
    response = chat_wizard.post("widget", {"name": "Help chat"})
    assert (
        "/admin/authsettings/authenticationsetting/add/?_to_field=id&amp;_popup=1"
        "&amp;channel_type=live_chat" in response.content.decode()
    )


def test_a_new_workstream_needs_the_permissions_to_add_workstreams_and_queues(client, diane):
    diane.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_channelinstance", "add_deployment"])
    )
    walk = WizardWalk.started_by(client, diane, CHAT_URL, "chat_setup_wizard")
    response = walk.post("workstream", {"new_workstream_name": "Mine", "default_queue_name": "Q"})
    assert "permissions to add workstreams and queues" in field_errors(response)["__all__"][0]


def test_an_apple_channel_is_set_up_with_authentication(apple_wizard, alice, apple_setting):
    apple_workstream = Workstream.objects.create(
        name="Apple", channel_type=ChannelType.APPLE_MESSAGES_FOR_BUSINESS
    )
    Workstream.objects.create(name="Web", channel_type=ChannelType.LIVE_CHAT)
    response = apple_wizard.start()
    assert [str(w) for w in response.context["wizard"]["form"].fields["workstream"].queryset] == [
        "Apple"
    ]
    response = apple_wizard.post("workstream", {"workstream": apple_workstream.pk})
    assert current_step(response) == "Step 2 of 4: Account details"
    response = apple_wizard.post("account", {"business_id": "", "name": "Contoso"})
    assert field_errors(response) == {"business_id": ["This field is required."]}
    response = apple_wizard.post("account", {"business_id": "not a business id", "name": "C"})
    assert "business_id" in field_errors(response)
    response = apple_wizard.post(
        "account", {"business_id": "9a8b7c6d-1234-4e5f-a6b7-c8d9e0f1a2b3", "name": "Contoso"}
    )
    assert current_step(response) == "Step 3 of 4: Behaviours"
    response = apple_wizard.post("behaviours", {"authentication": "on"})
    assert field_errors(response)["authentication_setting"] == [
        "Choose an Apple Messages for Business authentication setting, or turn authentication off."
    ]
    response = apple_wizard.post(
        "behaviours", {"authentication": "on", "authentication_setting": apple_setting.pk}
    )
    assert current_step(response) == "Step 4 of 4: Summary"
    response = apple_wizard.post("summary")

    channel = ChannelInstance.objects.get()
    assert channel.kind == ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS
    assert channel.business_id == "9a8b7c6d-1234-4e5f-a6b7-c8d9e0f1a2b3"
    assert channel.authentication_setting == apple_setting
    assert not channel.require_authentication
    assert logged_additions() == {"channelinstance:Contoso"}
    assert response["Location"] == f"/admin/messaging/channelinstance/{channel.pk}/change/"
    page = apple_wizard.client.get(response["Location"]).content.decode()
    assert "Account details" in page and "Business ID" in page


def test_an_apple_channel_without_authentication_ignores_a_chosen_setting(
    apple_wizard, apple_setting
):
    apple_wizard.post("workstream", {"new_workstream_name": "Apple", "default_queue_name": "Q"})
    apple_wizard.post("account", {"business_id": "contoso-1", "name": "Contoso"})
    apple_wizard.post("behaviours", {"authentication_setting": apple_setting.pk})
    apple_wizard.post("summary")
    channel = ChannelInstance.objects.get()
    assert channel.authentication_setting is None
    assert channel.workstream.channel_type == ChannelType.APPLE_MESSAGES_FOR_BUSINESS


def test_a_live_chat_setting_is_not_offered_to_an_apple_channel(apple_wizard, implicit_setting):
    apple_wizard.post("workstream", {"new_workstream_name": "Apple", "default_queue_name": "Q"})
    apple_wizard.post("account", {"business_id": "contoso-1", "name": "Contoso"})
    response = apple_wizard.post(
        "behaviours", {"authentication": "on", "authentication_setting": implicit_setting.pk}
    )
    assert "authentication_setting" in field_errors(response)


def test_the_snippet_page_of_a_deployment_that_does_not_exist_leads_home(client, alice, db):
    client.force_login(alice)
    missing = client.get("/admin/messaging/deployment/999999/snippet/")
    assert missing.status_code == 302 and missing["Location"] == "/admin/"


def test_chat_is_set_up_for_mobile_apps_and_signed_in_customers_sessions(chat_wizard, workstream):
    setting = make_setting(Type.OPENID_CONNECT, name="Portal sign-in")
    chat_wizard.post("workstream", {"workstream": workstream.pk})
    chat_wizard.post("widget", {"name": "App chat"})
    response = chat_wizard.post(
        "behaviours",
        {
            "authentication_setting": setting.pk,
            "require_authentication": "on",
            "persistent_conversations": "on",
            "on_logout": "end",
        },
    )
    assert current_step(response) == "Step 4 of 5: Deployment"
    response = chat_wizard.post(
        "deployment",
        {"name": "App", "allowed_domains": "app.example.com", "allow_mobile_apps": "on"},
    )
    assert current_step(response) == "Step 5 of 5: Summary"

    chat_wizard.post("summary")

    widget = ChannelInstance.objects.get(name="App chat")
    assert widget.persistent_conversations
    assert widget.on_logout == ChannelInstance.OnLogout.END
    assert Deployment.objects.get(channel_instance=widget).allow_mobile_apps


def test_the_behaviours_step_refuses_ending_conversations_without_a_code_flow(
    chat_wizard, workstream, implicit_setting
):
    chat_wizard.post("workstream", {"workstream": workstream.pk})
    chat_wizard.post("widget", {"name": "Help chat"})
    response = chat_wizard.post(
        "behaviours",
        {"authentication_setting": implicit_setting.pk, "on_logout": "end"},
    )
    assert current_step(response) == "Step 3 of 5: Behaviours"
    assert "Only a code flow" in field_errors(response)["on_logout"][0]
