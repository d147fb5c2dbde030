"""The widget's socket: who may start a chat, and what happens to what they say."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from messaging import start_cache, widget_socket
from messaging.models import Contact, Conversation, Message
from tests.keyserver import SUBJECT, make_token, token_for
from tests.messaging.sockets import PLATFORM_HOST, SITE, refusal, refused_start, socket

pytestmark = pytest.mark.django_db(transaction=True)

CONTACT_ID = "87b4d06c-abc2-e811-a9b0-000d3a10e09e"


async def start(communicator, token, **extra):
    await communicator.send_json_to({"type": "start", "token": token, **extra})


@asynccontextmanager
async def open_chat(widget, token):
    """A socket to the widget in a chat started with `token`, past the started frame and the
    first system message."""
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token)
        await communicator.receive_json_from(timeout=5)
        await communicator.receive_json_from(timeout=5)
        yield communicator


async def test_a_signed_in_customer_starts_an_authenticated_routed_conversation(chat, keys):
    widget, deployment = chat
    await database_sync_to_async(Contact.objects.create)(id=CONTACT_ID, full_name="Dana")
    token = token_for(
        keys,
        sub=CONTACT_ID,
        lwicontexts=json.dumps({"msdyn_cartvalue": "10000", "msdyn_isvip": "true", "x": 1}),
    )
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token, deployment_id=str(deployment.deployment_id))
        started = await communicator.receive_json_from(timeout=5)
        assert started["type"] == "started"
        assert started["authenticated"] is True
        assert started["resume_token"]
        first = await communicator.receive_json_from(timeout=5)
        assert first["sender"] == "system"

    conversation = await database_sync_to_async(Conversation.objects.select_related("queue").get)(
        pk=started["conversation"]
    )
    assert conversation.subject == CONTACT_ID
    assert str(conversation.contact_id) == CONTACT_ID
    assert conversation.context == {"msdyn_cartvalue": 10000, "msdyn_isvip": True}
    assert conversation.authentication["context_dropped"] == ["x"]
    assert conversation.authentication["iss"] == "https://portal.example.com"
    assert (conversation.queue.name, conversation.priority) == ("VIP", 10)
    assert conversation.deployment_id == deployment.pk
    assert conversation.resume_token_hash != started["resume_token"]


async def test_an_anonymous_visitor_is_refused_where_authentication_is_required(chat):
    widget, _ = chat
    frame, code = await refused_start(widget.widget_id, None)
    assert (frame["code"], code) == ("token_missing", 4401)
    assert frame["type"] == "error" and frame["detail"]
    assert not await database_sync_to_async(Conversation.objects.exists)()


async def test_an_anonymous_visitor_chats_where_authentication_is_optional(chat):
    widget, _ = chat
    widget.require_authentication = False
    await database_sync_to_async(widget.save)()
    async with socket(widget.widget_id) as communicator:
        await start(communicator, None)
        started = await communicator.receive_json_from(timeout=5)
    assert started["authenticated"] is False
    conversation = await database_sync_to_async(Conversation.objects.get)()
    assert conversation.queue_id == widget.workstream.default_queue_id


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda keys: token_for(keys, exp=1, iat=0), "token_expired"),
        (lambda keys: token_for(keys, iss="https://evil.example.com"), "issuer_mismatch"),
        (lambda keys: make_token(keys.other, {"iss": "x", "sub": "y"}), "token_invalid"),
        (lambda keys: "not-a-token", "token_malformed"),
        (lambda keys: "a" * 9000, "token_too_large"),
        (lambda keys: token_for(keys, lwicontexts={"msdyn_cartvalue": "abc"}), "context_invalid"),
    ],
)
async def test_a_bad_token_is_refused_with_its_code_never_downgraded(chat, keys, make, code):
    widget, _ = chat
    widget.require_authentication = False  # even where anonymous chats are allowed
    await database_sync_to_async(widget.save)()
    frame, close_code = await refused_start(widget.widget_id, make(keys))
    assert (frame["code"], close_code) == (code, 4401)
    assert "eyJ" not in frame["detail"]
    assert not await database_sync_to_async(Conversation.objects.exists)()


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("https://evil.example.com", "origin_not_allowed"),
        ("null", "origin_not_allowed"),
        (None, "origin_not_allowed"),
    ],
)
async def test_a_page_from_another_origin_is_refused(chat, keys, origin, code):
    widget, _ = chat
    frame, close_code = await refused_start(widget.widget_id, token_for(keys), origin=origin)
    assert (frame["code"], close_code) == (code, 4403)


async def test_starts_on_a_widget_the_process_keeps_are_checked_all_the_same(chat, keys):
    """After a first start the process keeps the widget's reads: later starts still check
    their origin and token, each with its refusal."""
    widget, _ = chat
    async with open_chat(widget, token_for(keys)):
        pass
    assert await sync_to_async(start_cache.kept_widget)(widget.widget_id) is not None

    refusals = [
        await refused_start(widget.widget_id, token_for(keys), origin="https://evil.example.com"),
        await refused_start(widget.widget_id, token_for(keys, exp=1, iat=0)),
        await refused_start(widget.widget_id, None),
    ]

    assert [(frame["code"], code) for frame, code in refusals] == [
        ("origin_not_allowed", 4403),
        ("token_expired", 4401),
        ("token_missing", 4401),
    ]
    assert await database_sync_to_async(Conversation.objects.count)() == 1


async def test_a_connected_widget_socket_keeps_only_the_origin_of_its_handshake(chat, keys):
    """An idle chat socket holds no more of its handshake than it reads: the Origin, which
    its first frame checks."""
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token_for(keys))
        assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
        assert communicator.scope["headers"] == [(b"origin", SITE.encode())]


async def test_the_platforms_own_pages_may_run_the_widget(chat, keys):
    widget, _ = chat
    async with socket(widget.widget_id, origin="http://localhost:8000") as communicator:
        await start(communicator, token_for(keys))
        assert (await communicator.receive_json_from(timeout=5))["type"] == "started"


async def test_an_inactive_deployment_refuses_its_site(chat, keys):
    widget, deployment = chat
    deployment.status = deployment.Status.INACTIVE
    await database_sync_to_async(deployment.save)()
    frame, close_code = await refused_start(widget.widget_id, token_for(keys))
    assert (frame["code"], close_code) == ("deployment_inactive", 4403)


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        json.dumps(["start"]),
        json.dumps({"type": "message", "text": "hi"}),
        json.dumps({"type": "start", "token": "x" * 17000}),
        json.dumps({"type": "start", "token": 5}),
        json.dumps({"type": "start", "token": None, "deployment_id": "nope"}),
        # Hostile frames, which must be refused like any other and crash nothing.
        "[" * 16000,
        json.dumps(
            {"type": "resume", "conversation": CONTACT_ID, "resume_token": "x", "after": "²"}
        ),
        json.dumps(
            {"type": "resume", "conversation": CONTACT_ID, "resume_token": "x", "after": "9" * 5000}
        ),
    ],
)
async def test_a_bad_first_frame_is_refused_not_a_crash(chat, frame):
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        await communicator.send_to(text_data=frame)
        error, close_code = await refusal(communicator)
    assert (error["code"], close_code) == ("bad_frame", 4400)


async def test_a_token_in_the_url_is_ignored(chat, keys):
    widget, _ = chat
    from channels.testing import WebsocketCommunicator

    from tests.messaging.sockets import application, connected

    communicator = WebsocketCommunicator(
        application,
        f"/ws/widget/{widget.widget_id}/?token={token_for(keys)}",
        headers=[(b"origin", SITE.encode()), (b"host", PLATFORM_HOST.encode())],
    )
    async with connected(communicator):
        await start(communicator, None)
        frame, _ = await refusal(communicator)
        assert frame["code"] == "token_missing"


async def test_a_silent_socket_is_closed_after_the_start_deadline(chat, monkeypatch):
    monkeypatch.setattr(widget_socket, "START_TIMEOUT_SECONDS", 0.2)
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        frame, close_code = await refusal(communicator)
    assert (frame["code"], close_code) == ("bad_frame", 4400)


async def test_a_message_is_stored_before_it_is_echoed(chat, keys):
    widget, _ = chat
    async with open_chat(widget, token_for(keys)) as communicator:
        await communicator.send_json_to({"type": "message", "text": "<b>Where is my order?</b>"})
        echo = await communicator.receive_json_from(timeout=5)
    assert echo["sender"] == "visitor"
    assert echo["text"] == "<b>Where is my order?</b>"
    stored = await database_sync_to_async(Message.objects.get)(pk=int(echo["id"]))
    assert stored.text == echo["text"]


@pytest.mark.parametrize("text", ["", "x" * 4001, 42])
async def test_a_message_out_of_bounds_is_an_error_and_the_chat_goes_on(chat, keys, text):
    widget, _ = chat
    async with open_chat(widget, token_for(keys)) as communicator:
        await communicator.send_json_to({"type": "message", "text": text})
        error = await communicator.receive_json_from(timeout=5)
        assert error["code"] == "bad_frame"
        await communicator.send_json_to({"type": "message", "text": "still here"})
        assert (await communicator.receive_json_from(timeout=5))["text"] == "still here"


async def test_a_visitor_who_sends_too_fast_is_told_to_slow_down(chat, keys, settings):
    settings.CC_WIDGET_MESSAGES_PER_SECOND = 1
    widget, _ = chat
    async with open_chat(widget, token_for(keys)) as communicator:
        for number in range(widget_socket.MESSAGE_BURST + 1):
            await communicator.send_json_to({"type": "message", "text": f"m{number}"})
        frames = [await communicator.receive_json_from(timeout=5) for _ in range(21)]
    assert [f.get("code") for f in frames].count("rate_limited") == 1
    stored = await database_sync_to_async(Message.objects.filter(sender="visitor").count)()
    assert stored == widget_socket.MESSAGE_BURST


async def test_too_many_starts_from_one_address_are_refused(chat, keys, settings):
    settings.CC_WIDGET_STARTS_PER_MINUTE = 1
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token_for(keys))
        assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
    frame, close_code = await refused_start(widget.widget_id, token_for(keys))
    assert (frame["code"], close_code) == ("rate_limited", 4429)


async def test_a_reconnecting_visitor_resumes_without_losing_messages(chat, keys):
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token_for(keys))
        started = await communicator.receive_json_from(timeout=5)
        system = await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"type": "message", "text": "first"})
        await communicator.receive_json_from(timeout=5)
    conversation = await database_sync_to_async(Conversation.objects.get)()
    await database_sync_to_async(Message.objects.create)(
        conversation=conversation, sender="agent", text="answer while away"
    )
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to(
            {
                "type": "resume",
                "conversation": started["conversation"],
                "resume_token": started["resume_token"],
                "after": system["id"],
            }
        )
        resumed = await communicator.receive_json_from(timeout=5)
        replayed = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
        assert await communicator.receive_nothing(timeout=0.2)
    assert resumed == {
        "type": "resumed",
        "conversation": started["conversation"],
        "authenticated": True,
    }
    assert [frame["text"] for frame in replayed] == ["first", "answer while away"]


async def test_a_wrong_resume_token_is_refused(chat, keys):
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token_for(keys))
        started = await communicator.receive_json_from(timeout=5)
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to(
            {"type": "resume", "conversation": started["conversation"], "resume_token": "guess"}
        )
        frame, close_code = await refusal(communicator)
    assert (frame["code"], close_code) == ("resume_invalid", 4401)


async def upgradable(chat):
    widget, _ = chat
    widget.require_authentication = False
    widget.allow_session_upgrade = True
    await database_sync_to_async(widget.save)()
    return widget


async def test_an_anonymous_chat_signs_in_mid_chat_and_never_goes_back(chat, keys):
    widget = await upgradable(chat)
    async with socket(widget.widget_id) as communicator:
        await start(communicator, None)
        started = await communicator.receive_json_from(timeout=5)
        assert started["authenticated"] is False
        await communicator.receive_json_from(timeout=5)
        await communicator.send_json_to({"type": "authenticate", "token": token_for(keys)})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "authenticated",
            "conversation": started["conversation"],
            "authenticated": True,
        }
        other = token_for(keys, sub="someone-else")
        await communicator.send_json_to({"type": "authenticate", "token": other})
        assert (await communicator.receive_json_from(timeout=5))["code"] == "subject_mismatch"
        await communicator.send_json_to({"type": "authenticate", "token": "broken"})
        assert (await communicator.receive_json_from(timeout=5))["code"] == "token_malformed"
        await communicator.send_json_to({"type": "message", "text": "socket still open"})
        assert (await communicator.receive_json_from(timeout=5))["text"] == "socket still open"
    conversation = await database_sync_to_async(Conversation.objects.get)()
    assert (conversation.authenticated, conversation.subject) == (True, SUBJECT)


async def test_signing_in_mid_chat_needs_the_widget_to_allow_it(chat, keys):
    widget, _ = chat
    async with open_chat(widget, token_for(keys)) as communicator:
        await communicator.send_json_to({"type": "authenticate", "token": token_for(keys)})
        assert (await communicator.receive_json_from(timeout=5))["code"] == "upgrade_not_allowed"


async def test_a_conversation_nobody_can_take_is_refused_and_nothing_of_it_is_heard(chat, keys):
    widget, _ = chat
    workstream = widget.workstream
    workstream.default_queue = None
    await database_sync_to_async(workstream.save)()
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": token_for(keys)})
        frame, close_code = await refusal(communicator)
        # The socket listened to the conversation it was to start, and no longer does.
        assert not [group for group in get_channel_layer().groups if "conversation" in group]
    assert (frame["code"], close_code) == ("workstream_unavailable", 4403)
    assert not await database_sync_to_async(Conversation.objects.exists)()


async def test_an_unknown_widget_is_refused(db):
    frame, close_code = await refused_start("00000000-0000-0000-0000-000000000000", None)
    assert (frame["code"], close_code) == ("bad_frame", 4400)
    await asyncio.sleep(0)


@pytest.mark.parametrize("origin", ["http://[x", "https://", "javascript:alert(1)"])
async def test_a_malformed_origin_is_refused_not_a_crash(chat, keys, origin):
    widget, _ = chat
    frame, close_code = await refused_start(widget.widget_id, token_for(keys), origin=origin)
    assert (frame["code"], close_code) == ("origin_not_allowed", 4403)


async def test_a_message_with_a_nul_character_is_refused(chat, keys):
    widget, _ = chat
    async with open_chat(widget, token_for(keys)) as communicator:
        await communicator.send_json_to({"type": "message", "text": "a\x00b"})
        assert (await communicator.receive_json_from(timeout=5))["code"] == "bad_frame"


async def test_a_deployment_id_in_capitals_still_names_its_deployment(chat, keys):
    widget, deployment = chat
    async with socket(widget.widget_id) as communicator:
        await start(
            communicator, token_for(keys), deployment_id=str(deployment.deployment_id).upper()
        )
        assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
    conversation = await database_sync_to_async(Conversation.objects.get)()
    assert conversation.deployment_id == deployment.pk


async def test_a_start_that_arrives_in_time_is_not_cut_off_by_the_deadline(chat, keys, monkeypatch):
    monkeypatch.setattr(widget_socket, "START_TIMEOUT_SECONDS", 0.3)
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        await start(communicator, token_for(keys))
        assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
        await asyncio.sleep(0.5)
        await communicator.receive_json_from(timeout=5)  # the system message
        assert await communicator.receive_nothing(timeout=0.2)
