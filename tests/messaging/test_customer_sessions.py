"""A signed-in customer's code-flow chat from start to end: authenticated until the session
token expires, asked for a fresh one a minute before, renewed with the same sub; continued on
every device where the widget keeps conversations; ended or signed out by a logout."""

from __future__ import annotations

import json
import time
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import path
from django.utils import timezone

from authsettings.sessions import SESSION_SECONDS
from messaging import customer_sessions, sweeps
from messaging.models import ChannelInstance, Conversation, Deployment
from messaging.summaries import conversation_summary
from messaging.widget_socket import VisitorConsumer
from tests.helpers import Type, make_setting
from tests.identity_provider import (
    CODE,
    CODE_VERIFIER,
    NONCE,
    REDIRECT_URI,
    SUBJECT,
    openid_setting,
    start_provider,
)
from tests.messaging.sign_ins import expiry_of, session_token
from tests.messaging.sockets import (
    PLATFORM_HOST,
    SITE,
    connected,
    console,
    resume_frame,
    socket,
)

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_SUBJECT = "visitor-7"


def make_widget(workstream, setting, **fields) -> ChannelInstance:
    widget = ChannelInstance.objects.create(
        name="Account chat",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=setting,
        **fields,
    )
    Deployment.objects.create(
        name="Portal", channel_instance=widget, allowed_domains=["portal.example.com"]
    )
    return widget


@pytest.fixture
def code_widget(workstream):
    """A chat widget signing customers in with OpenID Connect, without session upgrade."""
    return make_widget(workstream, make_setting(Type.OPENID_CONNECT, name="Account sign-in"))


@pytest.fixture
def shared_widget(workstream):
    """The same, keeping a customer's conversation across devices."""
    return make_widget(
        workstream,
        make_setting(Type.OPENID_CONNECT, name="Account sign-in"),
        persistent_conversations=True,
    )


async def token(widget, subject: str = SUBJECT, *, issued_ago: float = 0) -> str:
    return await database_sync_to_async(session_token)(widget, subject, issued_ago=issued_ago)


async def start(communicator, token: str) -> tuple[dict, list[dict]]:
    """Start a chat: the `started` frame and the transcript that follows it."""
    await communicator.send_json_to({"type": "start", "token": token})
    started = await communicator.receive_json_from(timeout=5)
    assert started["type"] == "started", started
    return started, await drain(communicator)


async def drain(communicator) -> list[dict]:
    """The frames that have arrived, until the socket is quiet."""
    frames = []
    while not await communicator.receive_nothing(timeout=0.2):
        frames.append(await communicator.receive_json_from())
    return frames


def clocked_socket(widget_id, clock) -> WebsocketCommunicator:
    """A widget socket from the site whose consumer reads time from `clock`."""
    route = URLRouter([path("ws/widget/<uuid:widget_id>/", VisitorConsumer.as_asgi(clock=clock))])
    return WebsocketCommunicator(
        route,
        f"/ws/widget/{widget_id}/",
        headers=[(b"host", PLATFORM_HOST.encode()), (b"origin", SITE.encode())],
    )


def conversation(pk) -> Conversation:
    return Conversation.objects.with_summary_relations().get(pk=pk)


# Expiry and re-authentication


async def test_a_code_flow_conversation_is_authenticated_until_its_session_token_expires(
    code_widget,
):
    session = await token(code_widget)
    async with socket(code_widget.widget_id) as communicator:
        started, _ = await start(communicator, session)

    stored = await database_sync_to_async(conversation)(started["conversation"])
    assert started["authenticated"] is True
    assert stored.authenticated_until == expiry_of(session)


async def test_the_socket_asks_for_a_fresh_token_a_minute_before_it_expires(code_widget):
    session = await token(code_widget)
    expires = expiry_of(session).timestamp()
    # A clock that reads a minute before the token's expiry.
    async with connected(clocked_socket(code_widget.widget_id, lambda: expires - 60)) as app:
        _, frames = await start(app, session)
    async with connected(clocked_socket(code_widget.widget_id, lambda: expires - 120)) as early:
        _, early_frames = await start(early, session)

    assert frames[-1] == {"type": "reauthenticate", "expires_in": 60}
    assert [frame["type"] for frame in early_frames] == ["message"]


async def test_with_less_than_a_minute_left_the_socket_asks_at_once(code_widget):
    session = await token(code_widget, issued_ago=SESSION_SECONDS - 20)
    async with socket(code_widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": session})
        frames = [await communicator.receive_json_from(timeout=5) for _ in range(3)]

    asked = frames[-1]
    assert [frame["type"] for frame in frames] == ["started", "message", "reauthenticate"]
    assert 15 <= asked["expires_in"] <= 20


def test_the_request_comes_a_minute_early_and_never_for_a_lapsed_or_lasting_sign_in():
    now = timezone.now()
    at = now.timestamp()
    delay = customer_sessions.reauthenticate_delay
    assert delay(now + timedelta(seconds=300), now=at) == pytest.approx(240)
    assert delay(now + timedelta(seconds=30), now=at) == 0
    assert delay(now - timedelta(seconds=1), now=at) is None
    assert delay(None, now=at) is None


async def test_a_fresh_token_of_the_same_customer_renews_the_sign_in(code_widget, on_duty):
    first = await token(code_widget, issued_ago=SESSION_SECONDS - 20)
    fresh = await token(code_widget)
    async with socket(code_widget.widget_id) as communicator:
        started, frames = await start(communicator, first)
        assert frames[-1]["type"] == "reauthenticate"
        await communicator.send_json_to({"type": "authenticate", "token": fresh})
        answer = await communicator.receive_json_from(timeout=5)
        # Renewed: the next request waits for the fresh token's last minute.
        assert await communicator.receive_nothing(timeout=0.5)

    assert answer == {
        "type": "authenticated",
        "conversation": started["conversation"],
        "authenticated": True,
    }
    stored = await database_sync_to_async(conversation)(started["conversation"])
    assert stored.authenticated_until == expiry_of(fresh)


async def test_a_renewal_for_another_customer_is_refused_and_the_chat_goes_on(code_widget):
    async with socket(code_widget.widget_id) as communicator:
        await start(communicator, await token(code_widget))
        other = await token(code_widget, OTHER_SUBJECT)
        await communicator.send_json_to({"type": "authenticate", "token": other})
        refused = await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"type": "message", "text": "still here"})
        echo = await communicator.receive_json_from(timeout=5)

    assert refused["code"] == "subject_mismatch"
    assert echo["text"] == "still here"


@pytest.mark.parametrize("sent", ["garbage", "a.b.c"])
async def test_an_invalid_renewal_token_is_refused_with_its_code(code_widget, sent):
    async with socket(code_widget.widget_id) as communicator:
        await start(communicator, await token(code_widget))
        await communicator.send_json_to({"type": "authenticate", "token": sent})
        refused = await communicator.receive_json_from(timeout=5)

    assert refused["type"] == "error"
    assert refused["code"] in {"token_malformed", "token_invalid"}


async def test_an_anonymous_chat_still_cannot_sign_in_without_session_upgrade(code_widget):
    code_widget.require_authentication = False
    await database_sync_to_async(code_widget.save)()
    async with socket(code_widget.widget_id) as communicator:
        await start(communicator, None)
        await communicator.send_json_to({"type": "authenticate", "token": await token(code_widget)})
        refused = await communicator.receive_json_from(timeout=5)

    assert refused["code"] == "upgrade_not_allowed"


async def test_without_renewal_the_agent_reads_unauthenticated_from_the_expiry(code_widget):
    async with socket(code_widget.widget_id) as communicator:
        started, _ = await start(communicator, await token(code_widget))
    lapsed = timezone.now() - timedelta(seconds=1)
    await database_sync_to_async(Conversation.objects.filter(pk=started["conversation"]).update)(
        authenticated_until=lapsed
    )

    stored = await database_sync_to_async(conversation)(started["conversation"])
    summary = await database_sync_to_async(conversation_summary)(stored)
    assert (summary["authenticated"], summary["authenticated_until"]) == (
        False,
        lapsed.isoformat(),
    )
    assert summary["subject"] == SUBJECT
    assert await database_sync_to_async(
        Conversation.objects.filter(pk=started["conversation"]).not_authenticated_now().exists
    )()


async def test_a_code_flow_sign_in_that_lapses_unrenewed_is_told_to_the_agent_once(
    code_widget, on_duty
):
    session = await token(code_widget)
    expiry = expiry_of(session)
    async with AsyncExitStack() as stack:
        visitor = await stack.enter_async_context(socket(code_widget.widget_id))
        started, _ = await start(visitor, session)
        agent = await stack.enter_async_context(console(on_duty))
        await agent.receive_json_from(timeout=5)  # the queue
        await agent.send_json_to({"type": "accept", "conversation": started["conversation"]})
        await drain(agent)

        # Every server process sweeps once a second; the sweeps here run at moved times.
        await database_sync_to_async(sweeps.sweep)(expiry - timedelta(seconds=1))
        assert await agent.receive_nothing(timeout=0.2)
        await database_sync_to_async(sweeps.sweep)(expiry + timedelta(seconds=1))
        told = await agent.receive_json_from(timeout=5)
        await database_sync_to_async(sweeps.sweep)(expiry + timedelta(seconds=2))
        assert await agent.receive_nothing(timeout=0.2)

    assert (told["type"], told["conversation"]) == ("authentication", started["conversation"])
    assert told["authenticated"] is False
    assert told["authenticated_until"] == expiry.isoformat()


# Persistent conversations


async def test_a_second_device_continues_the_customers_open_conversation(shared_widget, on_duty):
    async with AsyncExitStack() as stack:
        phone = await stack.enter_async_context(socket(shared_widget.widget_id))
        first, _ = await start(phone, await token(shared_widget))
        await phone.send_json_to({"type": "message", "text": "Written on the phone"})
        await phone.receive_json_from(timeout=5)

        laptop = await stack.enter_async_context(socket(shared_widget.widget_id))
        second, transcript = await start(laptop, await token(shared_widget))

        assert second["conversation"] == first["conversation"]
        assert second["authenticated"] is True
        assert second["resume_token"] != first["resume_token"]
        assert [frame["text"] for frame in transcript][-1] == "Written on the phone"
        await laptop.send_json_to({"type": "message", "text": "And on the laptop"})
        assert (await laptop.receive_json_from(timeout=5))["text"] == "And on the laptop"
        assert (await phone.receive_json_from(timeout=5))["text"] == "And on the laptop"

    assert await database_sync_to_async(Conversation.objects.count)() == 1
    assert get_channel_layer().groups == {}
    for started in (first, second):
        async with socket(shared_widget.widget_id) as device:
            await device.send_json_to(resume_frame(started))
            assert (await device.receive_json_from(timeout=5))["type"] == "resumed"


async def test_an_agents_message_reaches_every_device_of_the_customer(shared_widget, on_duty):
    async with AsyncExitStack() as stack:
        phone = await stack.enter_async_context(socket(shared_widget.widget_id))
        first, _ = await start(phone, await token(shared_widget))
        laptop = await stack.enter_async_context(socket(shared_widget.widget_id))
        await start(laptop, await token(shared_widget))
        agent = await stack.enter_async_context(console(on_duty))
        queue = await agent.receive_json_from(timeout=5)
        assert [c["id"] for c in queue["conversations"]] == [first["conversation"]]
        await agent.send_json_to({"type": "accept", "conversation": first["conversation"]})
        await drain(agent)
        await drain(phone)
        await drain(laptop)

        await agent.send_json_to(
            {"type": "message", "conversation": first["conversation"], "text": "Hello both"}
        )

        assert (await phone.receive_json_from(timeout=5))["text"] == "Hello both"
        assert (await laptop.receive_json_from(timeout=5))["text"] == "Hello both"


async def test_without_persistent_conversations_each_device_starts_its_own(code_widget):
    async with AsyncExitStack() as stack:
        phone = await stack.enter_async_context(socket(code_widget.widget_id))
        laptop = await stack.enter_async_context(socket(code_widget.widget_id))
        first, _ = await start(phone, await token(code_widget))
        second, _ = await start(laptop, await token(code_widget))

    assert first["conversation"] != second["conversation"]


async def test_another_customer_or_a_closed_conversation_is_not_continued(shared_widget):
    async with AsyncExitStack() as stack:
        mine = await stack.enter_async_context(socket(shared_widget.widget_id))
        theirs = await stack.enter_async_context(socket(shared_widget.widget_id))
        first, _ = await start(mine, await token(shared_widget))
        other, _ = await start(theirs, await token(shared_widget, OTHER_SUBJECT))
    await database_sync_to_async(Conversation.objects.filter(pk=first["conversation"]).update)(
        status=Conversation.Status.CLOSED
    )
    async with socket(shared_widget.widget_id) as again:
        later, _ = await start(again, await token(shared_widget))

    assert len({first["conversation"], other["conversation"], later["conversation"]}) == 3


# Logout


@pytest.fixture
def provider(key_server, keys):
    provider = start_provider(key_server, keys)
    provider.answer_code_with_id_token(time.time())
    return provider


def exchange(widget) -> dict:
    return post(
        widget,
        "exchange",
        {
            "code": CODE,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": CODE_VERIFIER,
            "nonce": NONCE,
        },
    ).json()


def post(widget, action: str, body: dict):
    return Client().post(
        f"/widget/{widget.widget_id}/auth/{action}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )


def provider_widget(workstream, provider, **fields) -> ChannelInstance:
    return make_widget(workstream, openid_setting(provider), **fields)


async def test_a_logout_ends_the_conversation_where_the_widget_says_so(workstream, provider):
    widget = await database_sync_to_async(provider_widget)(
        workstream, provider, on_logout=ChannelInstance.OnLogout.END
    )
    pair = await database_sync_to_async(exchange)(widget)
    async with socket(widget.widget_id) as communicator:
        started, _ = await start(communicator, pair["session_token"])
        response = await database_sync_to_async(post)(
            widget, "logout", {"refresh_token": pair["refresh_token"]}
        )
        ended = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
        closing = await communicator.receive_output(timeout=5)

    assert response.status_code == 204
    assert ended[-1] == {
        "type": "closed",
        "conversation": started["conversation"],
        "reason": "logout",
    }
    assert ended[-2]["text"] == "The customer signed out; the conversation is closed."
    assert closing == {"type": "websocket.close", "code": 4410}
    stored = await database_sync_to_async(conversation)(started["conversation"])
    assert stored.status == Conversation.Status.CLOSED
    async with socket(widget.widget_id) as again:
        await again.send_json_to(resume_frame(started))
        assert (await again.receive_json_from(timeout=5))["code"] == "resume_invalid"


async def test_after_a_logout_that_keeps_it_the_conversation_resumes_unauthenticated(
    workstream, provider
):
    widget = await database_sync_to_async(provider_widget)(workstream, provider)
    pair = await database_sync_to_async(exchange)(widget)
    async with socket(widget.widget_id) as communicator:
        started, _ = await start(communicator, pair["session_token"])
    await database_sync_to_async(post)(widget, "logout", {"refresh_token": pair["refresh_token"]})

    async with socket(widget.widget_id) as again:
        await again.send_json_to(resume_frame(started))
        resumed = await again.receive_json_from(timeout=5)

    assert (resumed["type"], resumed["authenticated"]) == ("resumed", False)
    stored = await database_sync_to_async(conversation)(started["conversation"])
    assert stored.status != Conversation.Status.CLOSED
    assert not stored.authenticated_now


async def test_a_logout_leaves_other_customers_conversations_alone(workstream, provider):
    widget = await database_sync_to_async(provider_widget)(
        workstream, provider, on_logout=ChannelInstance.OnLogout.END
    )
    pair = await database_sync_to_async(exchange)(widget)
    async with socket(widget.widget_id) as communicator:
        other, _ = await start(communicator, await token(widget, OTHER_SUBJECT))
    await database_sync_to_async(post)(widget, "logout", {"refresh_token": pair["refresh_token"]})

    stored = await database_sync_to_async(conversation)(other["conversation"])
    assert stored.status == Conversation.Status.WAITING and stored.authenticated_now
