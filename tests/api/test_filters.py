"""Lists are filtered, searched and ordered through query parameters."""

from __future__ import annotations

import pytest

from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Contact, Deployment, RichMessage
from tests.api_clients import results
from tests.helpers import Type, make_setting
from workstreams.models import Workstream

pytestmark = pytest.mark.django_db


def names(client, path: str, **query) -> list[str]:
    return [item.get("name", item.get("full_name")) for item in results(client.get(path, query))]


@pytest.fixture
def apple_workstream(db):
    return Workstream.objects.create(
        name="Apple", channel_type=ChannelType.APPLE_MESSAGES_FOR_BUSINESS
    )


def test_workstreams_by_channel_type(api, workstream, apple_workstream):
    path = "/api/v1/workstreams/"
    assert names(api, path, channel_type="apple_messages_for_business") == ["Apple"]
    assert names(api, path, channel_type="live_chat") == ["Web chat"]


def test_settings_by_channel_and_authentication_type(api, implicit_setting):
    make_setting(Type.OAUTH2, name="Code")
    path = "/api/v1/authentication-settings/"
    assert names(api, path, authentication_type="oauth2") == ["Code"]
    assert names(api, path, channel_type="live_chat") == ["Code", "Portal"]
    assert names(api, path, channel_type="apple_messages_for_business") == []


def test_workstream_parts_by_workstream(api, workstream, apple_workstream):
    assert len(results(api.get("/api/v1/context-variables/", {"workstream": workstream.pk}))) == 2
    assert results(api.get("/api/v1/queues/", {"workstream": apple_workstream.pk})) == []
    assert names(api, "/api/v1/queues/", workstream=workstream.pk) == ["General"]


def test_channel_instances_by_kind_and_workstream(api, chat_widget, apple_workstream):
    ChannelInstance.objects.create(
        name="Business chat",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        require_authentication=False,
    )
    path = "/api/v1/channel-instances/"
    assert names(api, path, kind="chat_widget") == ["Portal chat"]
    assert names(api, path, workstream=apple_workstream.pk) == ["Business chat"]


def test_deployments_and_contacts_by_status(api, deployment):
    Deployment.objects.create(
        name="Old site", channel_instance=deployment.channel_instance, status="inactive"
    )
    Contact.objects.create(full_name="Ada", status="inactive")
    Contact.objects.create(full_name="Grace")
    assert names(api, "/api/v1/deployments/", status="inactive") == ["Old site"]
    assert names(api, "/api/v1/contacts/", status="active") == ["Grace"]


def test_rich_messages_by_type(api, authentication_message):
    RichMessage.objects.create(name="Menu", type=RichMessage.Type.LIST_PICKER)
    assert names(api, "/api/v1/rich-messages/", type="list_picker") == ["Menu"]


def test_search_by_name_and_ordering(api, workstream):
    Workstream.objects.create(name="Sales chat", channel_type=ChannelType.LIVE_CHAT)
    Workstream.objects.create(name="Billing", channel_type=ChannelType.LIVE_CHAT)
    path = "/api/v1/workstreams/"
    assert names(api, path, search="chat") == ["Sales chat", "Web chat"]
    assert names(api, path, ordering="-name") == ["Web chat", "Sales chat", "Billing"]
    assert names(api, path, ordering="-created_at")[0] == "Billing"


def test_an_unknown_filter_value_is_a_bad_request(api):
    response = api.get("/api/v1/workstreams/", {"channel_type": "sms"})
    assert response.status_code == 400
    assert "channel_type" in response.json()
