"""Channel instances, deployments and rich messages fit together only in ways that work."""

from __future__ import annotations

import pytest

from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Deployment, RichMessage
from tests.helpers import Type, errors_of, make_chat_widget, make_setting
from workstreams.models import Workstream

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def apple_workstream(db):
    return Workstream.objects.create(
        name="Apple", channel_type=ChannelType.APPLE_MESSAGES_FOR_BUSINESS
    )


def test_a_chat_widget_needs_a_live_chat_workstream(apple_workstream):
    widget = ChannelInstance(
        name="Widget",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=apple_workstream,
        require_authentication=False,
    )
    assert errors_of(widget)["workstream"] == ["Choose a workstream of channel type Live chat."]


def test_an_apple_channel_needs_an_apple_authentication_setting(apple_workstream, implicit_setting):
    channel = ChannelInstance(
        name="Apple",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        authentication_setting=implicit_setting,
    )
    assert errors_of(channel)["authentication_setting"] == [
        "Choose an authentication setting of channel type Apple Messages for Business."
    ]


def test_requiring_authentication_needs_a_setting(workstream):
    widget = ChannelInstance(
        name="Widget", kind=ChannelInstance.Kind.CHAT_WIDGET, workstream=workstream
    )
    assert errors_of(widget)["require_authentication"] == [
        "Choose an authentication setting, or turn off require authentication."
    ]
    widget.require_authentication = False
    widget.full_clean()


def test_a_widget_gets_its_own_public_id(chat_widget, workstream, implicit_setting):
    second = make_chat_widget(workstream, name="Second", authentication_setting=implicit_setting)
    assert chat_widget.widget_id != second.widget_id
    assert chat_widget.widget_id != chat_widget.pk


def test_a_setting_in_use_cannot_be_deleted(chat_widget, implicit_setting):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        implicit_setting.delete()


def test_allowed_domains_are_host_names_kept_in_lower_case_once(chat_widget):
    deployment = Deployment(
        name="Site",
        channel_instance=chat_widget,
        allowed_domains=["WWW.Example.com", "www.example.com.", "shop.example.com"],
    )
    deployment.full_clean()
    assert deployment.allowed_domains == ["www.example.com", "shop.example.com"]


@pytest.mark.parametrize(
    "host", ["https://www.example.com", "example.com/path", "-bad-.com", "", "a.com:99999"]
)
def test_an_allowed_domain_is_a_bare_host_name(chat_widget, host):
    deployment = Deployment(name="Site", channel_instance=chat_widget, allowed_domains=[host])
    assert "allowed_domains" in errors_of(deployment)


def test_allow_all_domains_goes_only_with_an_empty_list(chat_widget):
    deployment = Deployment(
        name="Site",
        channel_instance=chat_widget,
        allowed_domains=["www.example.com"],
        allow_all_domains=True,
    )
    assert errors_of(deployment)["allow_all_domains"] == [
        "Allow all domains only with an empty list of allowed domains."
    ]
    deployment.allowed_domains = []
    deployment.full_clean()


def test_a_deployment_runs_a_chat_widget(apple_workstream):
    setting = make_setting(Type.OAUTH2_CODE)
    apple = ChannelInstance.objects.create(
        name="Apple",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        authentication_setting=setting,
    )
    deployment = Deployment(name="Site", channel_instance=apple)
    assert errors_of(deployment)["channel_instance"] == [
        "A deployment runs a chat widget; choose one."
    ]


def test_the_snippet_loads_the_widget_for_the_deployment(deployment):
    snippet = deployment.snippet("https://cc.example.com/")
    assert snippet == (
        '<script src="https://cc.example.com/widget/loader.js" '
        f'data-deployment-id="{deployment.deployment_id}" async></script>'
    )
    assert deployment.mobile("https://cc.example.com") == {
        "deployment_id": str(deployment.deployment_id),
        "domain": "cc.example.com",
    }


@pytest.mark.parametrize(
    "content",
    [
        {},
        {"received_message": "Sign in"},
        {"received_message": "", "reply_message": "Thanks"},
        {"received_message": "x" * 1001, "reply_message": "Thanks"},
        {"received_message": 5, "reply_message": "Thanks"},
    ],
)
def test_an_authentication_rich_message_has_both_texts(content):
    message = RichMessage(name="Sign in", type=RichMessage.Type.AUTHENTICATION, content=content)
    assert "content" in errors_of(message)


def test_rich_message_content_is_an_object():
    message = RichMessage(name="Pick", type=RichMessage.Type.LIST_PICKER, content=["a"])
    assert errors_of(message)["content"] == ["Give the content as a JSON object."]


def test_persistent_conversations_follow_signed_in_customers_of_a_chat_widget(
    workstream, apple_workstream
):
    anonymous = ChannelInstance(
        name="Widget",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        require_authentication=False,
        persistent_conversations=True,
    )
    assert errors_of(anonymous)["persistent_conversations"] == [
        "Persistent conversations follow signed-in customers; choose an authentication setting."
    ]
    apple = ChannelInstance(
        name="Apple",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        require_authentication=False,
        persistent_conversations=True,
    )
    assert errors_of(apple)["persistent_conversations"] == [
        "Only a chat widget keeps conversations across devices."
    ]


def test_only_a_code_flow_widget_may_end_conversations_at_sign_out(workstream, implicit_setting):
    widget = ChannelInstance(
        name="Widget",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=implicit_setting,
        on_logout=ChannelInstance.OnLogout.END,
    )
    assert "Only a code flow" in errors_of(widget)["on_logout"][0]
    for flow in (Type.OPENID_CONNECT, Type.OAUTH2):
        widget.authentication_setting = make_setting(flow)
        widget.persistent_conversations = True
        widget.full_clean()
