"""How a chat ends: closed by the agent, or abandoned when its visitor has had no socket open
for ten minutes while it waits. The visitor's sockets are told why and closed with 4410, and
agents watching the queue see an abandoned chat leave it. Clocks are moved, never waited for."""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import AsyncExitStack
from datetime import timedelta
from io import StringIO

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.utils import timezone

from messaging import actions
from messaging import presence as presence_module
from messaging.models import ABANDONED_AFTER, Conversation, Message
from messaging.presence import presence
from tests.keyserver import token_for
from tests.messaging.sockets import console, refusal, socket

pytestmark = pytest.mark.django_db(transaction=True)

in_db = database_sync_to_async


async def start(communicator, keys) -> dict:
    """Start a chat and read past the started frame and the first system message."""
    await communicator.send_json_to({"type": "start", "token": token_for(keys)})
    started = await communicator.receive_json_from(timeout=5)
    await communicator.receive_json_from(timeout=5)
    return started


async def left_chat(widget, keys) -> dict:
    """A chat whose visitor started it and closed the page."""
    async with socket(widget.widget_id) as communicator:
        return await start(communicator, keys)


async def conversation_of(started: dict) -> Conversation:
    return await in_db(Conversation.objects.get)(pk=started["conversation"])


async def test_a_waiting_chat_whose_visitor_left_ten_minutes_ago_is_closed_as_abandoned(
    chat, keys, on_duty
):
    widget, _ = chat
    started = await left_chat(widget, keys)
    async with console(on_duty) as agent:
        queue = await agent.receive_json_from(timeout=5)
        assert [c["id"] for c in queue["conversations"]] == [started["conversation"]]

        closed = await presence.tick(timezone.now() + ABANDONED_AFTER + timedelta(seconds=1))

        assert closed == 1
        assert await agent.receive_json_from(timeout=5) == {
            "type": "taken",
            "conversation": started["conversation"],
        }
    conversation = await conversation_of(started)
    assert conversation.status == Conversation.Status.CLOSED
    last = await in_db(lambda: conversation.messages.order_by("id").last())()
    assert (last.sender, last.text) == ("system", "The customer left; the conversation is closed.")
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to(
            {
                "type": "resume",
                "conversation": started["conversation"],
                "resume_token": started["resume_token"],
            }
        )
        frame, code = await refusal(communicator)
    assert (frame["code"], code) == ("resume_invalid", 4401)


async def test_visitors_who_left_are_written_down_together_soon_after(chat, keys, monkeypatch):
    monkeypatch.setattr(presence_module, "LEFT_SECONDS", 0.5)
    widget, _ = chat
    async with AsyncExitStack() as pages:
        sockets = [await pages.enter_async_context(socket(widget.widget_id)) for _ in range(3)]
        started = [await start(communicator, keys) for communicator in sockets]
    all_left = timezone.now()

    await asyncio.wait_for(presence.left_writer, timeout=5)

    seen = {(await conversation_of(one)).visitor_seen_at for one in started}
    assert len(seen) == 1 and seen.pop() >= all_left


async def test_a_waiting_chat_is_kept_until_its_visitor_has_been_gone_ten_minutes(chat, keys):
    widget, _ = chat
    started = await left_chat(widget, keys)

    closed = await presence.tick(timezone.now() + ABANDONED_AFTER - timedelta(seconds=5))

    assert closed == 0
    assert (await conversation_of(started)).status == Conversation.Status.WAITING


async def test_a_waiting_chat_with_its_visitor_still_connected_is_never_abandoned(chat, keys):
    widget, _ = chat
    later = timezone.now() + ABANDONED_AFTER
    async with socket(widget.widget_id) as communicator:
        started = await start(communicator, keys)
        for minutes in (0, 10, 20, 30):
            assert await presence.tick(later + timedelta(minutes=minutes)) == 0
        assert await communicator.receive_nothing(timeout=0.1)
        conversation = await conversation_of(started)
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.visitor_seen_at == later + timedelta(minutes=30)


async def test_a_reconnected_visitor_restarts_the_abandon_clock(chat, keys):
    widget, _ = chat
    started = await left_chat(widget, keys)
    resume = {
        "type": "resume",
        "conversation": started["conversation"],
        "resume_token": started["resume_token"],
    }
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to(resume)
        assert (await communicator.receive_json_from(timeout=5))["type"] == "resumed"
    rejoined = timezone.now()
    await in_db(Conversation.objects.update)(visitor_seen_at=rejoined - ABANDONED_AFTER * 2)
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to(resume)
        assert (await communicator.receive_json_from(timeout=5))["type"] == "resumed"
    assert (await conversation_of(started)).visitor_seen_at >= rejoined


async def test_an_accepted_chat_is_not_abandoned_when_its_visitor_leaves(chat, keys, on_duty):
    widget, _ = chat
    started = await left_chat(widget, keys)
    await in_db(actions.do_accept_conversation)(started["conversation"], acting_user=on_duty)

    closed = await presence.tick(timezone.now() + ABANDONED_AFTER * 2)

    assert closed == 0
    assert (await conversation_of(started)).status == Conversation.Status.ACTIVE


@pytest.mark.parametrize("reason", ["agent", "abandoned"])
async def test_the_visitors_socket_is_told_why_the_chat_closed_and_closed_with_4410(
    chat, keys, on_duty, reason
):
    widget, _ = chat
    async with socket(widget.widget_id) as communicator:
        started = await start(communicator, keys)
        conversation = await conversation_of(started)
        if reason == "agent":
            await in_db(actions.do_close_conversation)(conversation, acting_user=on_duty)
        else:
            # A sweep by another process, or the command, that this process did not vouch to.
            later = timezone.now() + ABANDONED_AFTER * 2
            await in_db(actions.do_close_abandoned_conversations)(now=later)
        system = await communicator.receive_json_from(timeout=5)
        closed = await communicator.receive_json_from(timeout=5)
        closing = await communicator.receive_output(timeout=5)
    assert system["sender"] == "system"
    assert closed == {"type": "closed", "conversation": started["conversation"], "reason": reason}
    assert (closing["type"], closing["code"]) == ("websocket.close", 4410)


def test_the_command_closes_abandoned_chats_and_says_how_many(chat):
    widget, _ = chat
    conversations = [
        actions.do_start_conversation(
            widget, deployment=None, identity=None, context={}, dropped=[]
        ).conversation
        for _ in range(3)
    ]
    gone = timezone.now() - ABANDONED_AFTER - timedelta(seconds=1)
    Conversation.objects.filter(pk__in=[c.pk for c in conversations[:2]]).update(
        visitor_seen_at=gone
    )
    out = StringIO()

    call_command("close_abandoned_conversations", stdout=out)

    assert json.loads(out.getvalue()) == {"closed": 2}
    assert Conversation.objects.filter(status=Conversation.Status.CLOSED).count() == 2
    assert Message.objects.filter(text__startswith="The customer left").count() == 2


async def test_the_presence_tick_lets_socket_work_through_between_batches(chat, monkeypatch):
    monkeypatch.setattr(actions, "SWEEP_BATCH", 2)
    widget, _ = chat
    for _ in range(5):
        await in_db(actions.do_start_conversation)(
            widget, deployment=None, identity=None, context={}, dropped=[]
        )
    order: list[str] = []
    batch_running, socket_work_queued = threading.Event(), threading.Event()
    close_batch = actions.do_close_abandoned_batch

    def first_batch_waits(*, now):
        order.append("batch")
        if len(order) == 1:
            batch_running.set()
            socket_work_queued.wait(timeout=5)
        return close_batch(now=now)

    monkeypatch.setattr(actions, "do_close_abandoned_batch", first_batch_waits)

    tick = asyncio.ensure_future(presence.tick(timezone.now() + ABANDONED_AFTER * 2))
    assert await asyncio.to_thread(batch_running.wait, 5)
    socket_work = asyncio.ensure_future(in_db(order.append)("socket work"))
    await asyncio.sleep(0.1)  # queued on the database thread, behind the first batch
    socket_work_queued.set()

    assert await tick == 5
    await socket_work
    assert order == ["batch", "socket work", "batch", "batch"]
    statuses = await in_db(lambda: set(Conversation.objects.values_list("status", flat=True)))()
    assert statuses == {Conversation.Status.CLOSED}
