"""An agent asks an Apple customer to sign in: the interactive message reaches the gateway,
the customer signs in at the provider (OpenID Connect) or the device returns an encrypted
token (code flow), the conversation turns authenticated, routed again, until the expiry, when
the agent is told once. Each failure is told to the agent in one sentence."""

from __future__ import annotations

import html
from contextlib import AsyncExitStack
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test import Client
from django.utils import timezone

from messaging import conversations
from messaging.models import AppleAuthenticationRequest, Conversation
from tests.apple import device
from tests.apple.conftest import apple_setting
from tests.apple.console import accepted, sweep
from tests.helpers import Type

pytestmark = pytest.mark.django_db(transaction=True)

SUBJECT = "customer-0007"
ACCESS_TOKEN = "provider-access-token-1"


@pytest.fixture
def provider(key_server):
    key_server.serve("/token", {"access_token": ACCESS_TOKEN, "token_type": "Bearer"})
    key_server.serve("/me", {"sub": SUBJECT})
    return key_server


async def requested(agent, conversation_id: str, gateway) -> dict:
    """Ask for a sign-in, deliver it, and return the interactive data Apple received."""
    await agent.send_json_to({"type": "request_authentication", "conversation": conversation_id})
    system = await agent.receive_json_from(timeout=5)
    assert (system["sender"], system["delivery"]) == ("system", "pending")
    await sweep(timezone.now())
    delivered = await agent.receive_json_from(timeout=5)
    assert (delivered["type"], delivered["delivery"]) == ("delivery", "delivered")
    return gateway.sent("authenticate")[-1].body["interactiveData"]


def callback(setting_id, **query) -> tuple[int, str]:
    response = Client().get(f"/apple/auth/{setting_id}/callback", query)
    return response.status_code, html.unescape(response.content.decode())


async def error_of(agent) -> dict:
    frame = await agent.receive_json_from(timeout=5)
    assert frame["type"] == "error", frame
    return frame


async def test_the_openid_connect_flow_signs_in_routes_again_and_lapses_once(
    gateway, provider, apple_channel, apple_agent, apple_workstream
):
    setting = apple_channel.authentication_setting
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        assert summary["sign_in_messages"] == [
            {"id": m.pk, "name": m.name}
            for m in await database_sync_to_async(list)(setting.rich_messages.all())
        ]
        data = await requested(agent, summary["id"], gateway)
        oauth2 = data["data"]["authenticate"]["oauth2"]
        assert data["bid"].startswith("com.apple.messages.MSMessageExtensionBalloonPlugin:")
        assert data["receivedMessage"] == {"title": "Please sign in", "style": "icon"}
        assert data["replyMessage"] == {"title": "Thanks, signed in", "style": "icon"}
        assert oauth2["responseType"] == "code"
        assert oauth2["scope"] == ["openid", "email"]
        redirect = f"http://localhost:8000/apple/auth/{setting.pk}/callback"
        assert oauth2["redirectURI"] == redirect
        state = oauth2["state"]

        status, page = await database_sync_to_async(callback)(
            setting.pk, code="code-1", state=state
        )
        assert (status, "Signed in; return to Messages" in page) == (200, True)
        frame = await agent.receive_json_from(timeout=5)
        assert frame["type"] == "authentication"
        assert (frame["conversation"], frame["authenticated"]) == (summary["id"], True)
        assert frame["authenticated_until"] is not None

        [token_request] = [r for r in provider.requests if r.path == "/token"]
        assert parse_qs(token_request.body.decode()) == {
            "grant_type": ["authorization_code"],
            "code": ["code-1"],
            "redirect_uri": [redirect],
            "client_id": ["apple"],
            "client_secret": ["s3cret-value"],
            "prompt": ["login"],
        }
        [me] = [r for r in provider.requests if r.path == "/me"]
        assert me.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"

        # The device's reply closes the request; nothing more for the agent.
        reply = device.sign_in_reply(data["data"]["requestIdentifier"])
        assert (await database_sync_to_async(device.post)(Client(), reply)).status_code == 200
        assert await agent.receive_nothing(timeout=0.2)

        conversation = await database_sync_to_async(Conversation.objects.get)(pk=summary["id"])
        assert conversation.subject == SUBJECT
        assert conversation.authentication["type"] == "oauth2_openid_connect"
        assert conversation.authentication["sub"] == SUBJECT
        assert conversation.authentication["setting"] == setting.pk
        until = conversation.authenticated_until
        assert until - timezone.now() == pytest.approx(
            timedelta(seconds=120), abs=timedelta(seconds=5)
        )

        # The sign-in lapses: the agent is told by the first sweep after it, once.
        assert conversation.authenticated_now
        await sweep(until - timedelta(seconds=1))
        assert await agent.receive_nothing(timeout=0.2)
        await sweep(until + timedelta(seconds=1))
        lapsed = await agent.receive_json_from(timeout=5)
        assert (lapsed["type"], lapsed["authenticated"]) == ("authentication", False)
        await sweep(until + timedelta(seconds=2))
        assert await agent.receive_nothing(timeout=0.2)


async def test_a_waiting_conversation_signing_in_moves_to_the_queue_for_signed_in_customers(
    gateway, provider, apple_channel, apple_agent, apple_workstream
):
    await database_sync_to_async(device.text)(Client(), "hi")
    conversation = await database_sync_to_async(Conversation.objects.get)()
    sign_in = await database_sync_to_async(conversations.request_authentication)(
        conversation,
        rich_message_id=None,
        platform_url="https://cc.example.com",
        acting_user=apple_agent,
    )
    assert sign_in.redirect_uri.startswith("https://cc.example.com/apple/auth/")
    await sweep(timezone.now())
    state = gateway.sent("authenticate")[-1].body["interactiveData"]["data"]["authenticate"][
        "oauth2"
    ]["state"]
    status, _ = await database_sync_to_async(callback)(
        apple_channel.authentication_setting_id, code="c", state=state
    )
    assert status == 200
    conversation = await database_sync_to_async(Conversation.objects.select_related("queue").get)()
    assert (conversation.queue.name, conversation.priority) == ("Apple verified", 5)


@pytest.mark.parametrize(
    ("serve", "query", "status", "code"),
    [
        ({"/token": ({"error": "invalid_grant"}, 400)}, {"code": "c"}, 502, "provider_refused"),
        ({"/me": ({"error": "invalid_token"}, 401)}, {"code": "c"}, 502, "provider_refused"),
        ({"/me": ({"name": "no sub"}, 200)}, {"code": "c"}, 502, "subject_missing"),
        ({}, {"error": "access_denied"}, 502, "provider_refused"),
    ],
    ids=["code-refused", "token-url-refused", "no-subject", "provider-error"],
)
async def test_a_provider_failure_is_told_to_the_agent_in_one_sentence(
    gateway, provider, apple_channel, apple_agent, serve, query, status, code
):
    for path, (document, answer) in serve.items():
        provider.serve(path, document, status=answer)
    setting_id = apple_channel.authentication_setting_id
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        data = await requested(agent, summary["id"], gateway)
        state = data["data"]["authenticate"]["oauth2"]["state"]
        answer, page = await database_sync_to_async(callback)(setting_id, state=state, **query)
        assert answer == status
        error = await error_of(agent)
        assert (error["code"], error["conversation"]) == (code, summary["id"])
        assert error["detail"].count(".") == 1 and error["detail"] in page
        assert ACCESS_TOKEN not in error["detail"]
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=summary["id"])
    assert not conversation.authenticated_now


async def test_a_state_works_once_and_not_after_ten_minutes(
    gateway, provider, apple_channel, apple_agent
):
    setting_id = apple_channel.authentication_setting_id
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        first = await requested(agent, summary["id"], gateway)
        state = first["data"]["authenticate"]["oauth2"]["state"]
        assert (await database_sync_to_async(callback)(setting_id, code="c", state=state))[0] == 200
        assert (await agent.receive_json_from(timeout=5))["authenticated"] is True
        status, _ = await database_sync_to_async(callback)(setting_id, code="c", state=state)
        assert status == 400
        assert (await error_of(agent))["code"] == "state_reused"

        second = await requested(agent, summary["id"], gateway)
        await database_sync_to_async(
            AppleAuthenticationRequest.objects.filter(pk=second["data"]["requestIdentifier"]).update
        )(expires_at=timezone.now() - timedelta(seconds=1))
        state = second["data"]["authenticate"]["oauth2"]["state"]
        status, _ = await database_sync_to_async(callback)(setting_id, code="c", state=state)
        assert status == 400
        assert (await error_of(agent))["code"] == "state_expired"

        status, page = await database_sync_to_async(callback)(setting_id, code="c", state="x" * 64)
        assert status == 400 and "not known" in page
        assert await agent.receive_nothing(timeout=0.2)


async def test_a_state_of_another_setting_is_refused(gateway, provider, apple_channel, apple_agent):
    other = await database_sync_to_async(apple_setting)(provider)
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        data = await requested(agent, summary["id"], gateway)
        state = data["data"]["authenticate"]["oauth2"]["state"]
        status, _ = await database_sync_to_async(callback)(other.pk, code="c", state=state)
        assert status == 400
        assert (await error_of(agent))["code"] == "state_invalid"
    assert not [r for r in provider.requests if r.path == "/token"]


async def test_a_device_reporting_failure_is_told_to_the_agent(
    gateway, provider, apple_channel, apple_agent
):
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        data = await requested(agent, summary["id"], gateway)
        reply = device.sign_in_reply(data["data"]["requestIdentifier"], status="failed")
        assert (await database_sync_to_async(device.post)(Client(), reply)).status_code == 200
        error = await error_of(agent)
        assert error["code"] == "sign_in_failed"
        assert "'failed'" in error["detail"]


async def test_a_device_without_the_capability_cannot_be_asked(gateway, apple_channel, apple_agent):
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent, capabilities="LIST")
        await agent.send_json_to({"type": "request_authentication", "conversation": summary["id"]})
        error = await error_of(agent)
        assert (error["code"], error["conversation"]) == ("capability_missing", summary["id"])
        assert "AUTH2" in error["detail"]
    assert not gateway.received


@pytest.fixture
def code_flow_channel(apple_channel, key_server):
    apple_channel.authentication_setting = apple_setting(key_server, Type.OAUTH2_CODE)
    apple_channel.save()
    return apple_channel


async def test_the_code_flow_decrypts_the_devices_token_and_signs_in(
    gateway, provider, code_flow_channel, apple_agent
):
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent, capabilities="AUTH")
        data = await requested(agent, summary["id"], gateway)
        oauth2 = data["data"]["authenticate"]["oauth2"]
        assert oauth2["clientSecret"] == "s3cret-value"
        assert "redirectURI" not in oauth2
        token = device.encrypt_token(oauth2["responseEncryptionKey"], "device-redeemed-token")
        reply = device.sign_in_reply(data["data"]["requestIdentifier"], token=token)
        assert (await database_sync_to_async(device.post)(Client(), reply)).status_code == 200
        frame = await agent.receive_json_from(timeout=5)
        assert (frame["type"], frame["authenticated"]) == ("authentication", True)
        [me] = [r for r in provider.requests if r.path == "/me"]
        assert me.headers["Authorization"] == "Bearer device-redeemed-token"
    conversation = await database_sync_to_async(Conversation.objects.get)(pk=summary["id"])
    assert (conversation.subject, conversation.authentication["type"]) == (SUBJECT, "oauth2_code")
    sign_in = await database_sync_to_async(AppleAuthenticationRequest.objects.get)()
    assert sign_in.outcome == "authenticated"
    assert "PRIVATE KEY" not in await database_sync_to_async(raw_private_key)(sign_in.pk)


def raw_private_key(pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key FROM messaging_appleauthenticationrequest WHERE request_identifier"
            " = %s",
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        return cursor.fetchone()[0]


async def test_a_tampered_code_flow_token_is_told_to_the_agent(
    gateway, provider, code_flow_channel, apple_agent
):
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent, capabilities="AUTH")
        data = await requested(agent, summary["id"], gateway)
        key = data["data"]["authenticate"]["oauth2"]["responseEncryptionKey"]
        token = bytearray(device.encrypt_token(key, "device-redeemed-token").encode())
        token[-6] = ord("A") if token[-6] != ord("A") else ord("B")
        reply = device.sign_in_reply(data["data"]["requestIdentifier"], token=token.decode())
        assert (await database_sync_to_async(device.post)(Client(), reply)).status_code == 200
        assert (await error_of(agent))["code"] == "token_invalid"
    assert not [r for r in provider.requests if r.path == "/me"]
