"""The API's view of Apple conversations: channel, customer id and deliveries; the
request-authentication action (scope conversations:write); business ids."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from messaging.models import AppleAuthenticationRequest, ChannelInstance, Conversation, Message
from tests.api_clients import bearer, create_api_client, fetch_token
from tests.apple.device import BUSINESS_ID, CUSTOMER, text
from tests.helpers import authentication_rich_message, errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_with(scopes: str):
    return bearer(fetch_token(create_api_client(f"Client ({scopes})", scopes))["access_token"])


@pytest.fixture
def conversation(msp, apple_channel) -> Conversation:
    assert text(Client(), "hello").status_code == 200
    return Conversation.objects.get()


def request_sign_in(api, conversation, **body):
    return api.post(
        f"/api/v1/conversations/{conversation.pk}/request-authentication/", body, format="json"
    )


def test_an_apple_conversation_reads_with_its_channel_customer_and_deliveries(conversation):
    Message.objects.create(conversation=conversation, sender="agent", text="hi", delivery="pending")
    body = client_with("conversations:read").get(f"/api/v1/conversations/{conversation.pk}/")
    body = body.json()
    assert (body["channel"], body["customer_id"]) == ("apple_messages_for_business", CUSTOMER)
    assert [m["delivery"] for m in body["messages"]] == [None, None, "pending"]


def test_a_lapsed_sign_in_reads_not_authenticated_at_once(conversation):
    Conversation.objects.filter(pk=conversation.pk).update(
        authenticated=True,
        subject="c-1",
        authenticated_until=timezone.now() - timedelta(seconds=1),
    )
    reader = client_with("conversations:read")
    assert reader.get(f"/api/v1/conversations/{conversation.pk}/").json()["authenticated"] is False
    listed = reader.get("/api/v1/conversations/?authenticated=false").json()["results"]
    assert [c["id"] for c in listed] == [str(conversation.pk)]


def test_an_api_client_requests_a_sign_in_with_the_write_scope(conversation):
    second = authentication_rich_message(name="Zz other")
    conversation.channel_instance.authentication_setting.rich_messages.add(second)
    api = client_with("conversations:write")
    response = request_sign_in(api, conversation)
    assert response.status_code == 202
    sign_in = AppleAuthenticationRequest.objects.get()
    assert response.json() == {"request_identifier": str(sign_in.request_identifier)}
    assert sign_in.rich_message != second  # the first by name
    assert sign_in.message.delivery == "pending"
    assert sign_in.redirect_uri.endswith(f"/apple/auth/{sign_in.setting_id}/callback")

    chosen = request_sign_in(api, conversation, rich_message=second.pk)
    assert chosen.status_code == 202
    assert (
        AppleAuthenticationRequest.objects.get(pk=chosen.json()["request_identifier"]).rich_message
        == second
    )


def test_requesting_a_sign_in_needs_the_write_scope(conversation):
    assert request_sign_in(client_with("conversations:read"), conversation).status_code == 403
    assert not AppleAuthenticationRequest.objects.exists()


def test_a_sign_in_that_cannot_be_sent_is_409_with_its_code(conversation, apple_channel):
    api = client_with("conversations:write")
    Conversation.objects.filter(pk=conversation.pk).update(capabilities="LIST")
    assert request_sign_in(api, conversation).json()["code"] == "capability_missing"
    Conversation.objects.filter(pk=conversation.pk).update(capabilities="AUTH2")
    other = authentication_rich_message(name="Not the setting's")
    refused = request_sign_in(api, conversation, rich_message=other.pk)
    assert refused.status_code == 400 and "rich_message" in refused.json()
    ChannelInstance.objects.filter(pk=apple_channel.pk).update(authentication_setting=None)
    response = request_sign_in(api, conversation)
    assert (response.status_code, response.json()["code"]) == (409, "authentication_unavailable")
    Conversation.objects.filter(pk=conversation.pk).update(status="closed")
    response = request_sign_in(api, conversation)
    assert (response.status_code, response.json()["code"]) == (409, "conversation_closed")
    assert not AppleAuthenticationRequest.objects.exists()


def test_an_apple_channel_needs_a_business_id_of_its_own(apple_channel, apple_workstream):
    twin = ChannelInstance(
        name="Twin",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        business_id=BUSINESS_ID,
        require_authentication=False,
    )
    assert list(errors_of(twin)) == ["business_id"]
    twin.business_id = ""
    assert errors_of(twin)["business_id"] == ["Give the business id Apple assigned to the account."]

    api = client_with("config:write config:read")
    payload = {
        "name": "Twin",
        "kind": "apple_messages_for_business",
        "workstream": apple_workstream.pk,
        "require_authentication": False,
    }
    for business_id in (BUSINESS_ID, ""):
        response = api.post(
            "/api/v1/channel-instances/", {**payload, "business_id": business_id}, format="json"
        )
        assert response.status_code == 400
        assert list(response.json()) == ["business_id"]
    created = api.post(
        "/api/v1/channel-instances/", {**payload, "business_id": "other-1"}, format="json"
    )
    assert created.status_code == 201


def test_create_api_client_accepts_the_write_scope(capsys):
    call_command("create_api_client", "Sign-in requester", "--scopes", "conversations:write")
    assert '"client_secret"' in capsys.readouterr().out
