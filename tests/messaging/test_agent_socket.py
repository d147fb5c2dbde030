"""The agent console's socket: waiting conversations, accepting one, chatting with the visitor."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from messaging.agent_rights import agent_group
from messaging.agent_socket import MAX_QUEUE_FRAME
from messaging.models import Conversation
from tests.helpers import make_agent
from tests.keyserver import token_for
from tests.messaging.sockets import agent_socket, answer_to, console, refusal, socket

pytestmark = pytest.mark.django_db(transaction=True)


async def visitor_starts(stack: AsyncExitStack, widget, keys, **claims):
    """A visitor's socket, closed with `stack`, that started a chat: (socket, started frame)."""
    communicator = await stack.enter_async_context(socket(widget.widget_id))
    await communicator.send_json_to({"type": "start", "token": token_for(keys, **claims)})
    started = await communicator.receive_json_from(timeout=5)
    await communicator.receive_json_from(timeout=5)  # the system message
    return communicator, started


async def test_an_agent_sees_a_new_conversation_accepts_it_and_chats(chat, keys, on_duty):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(console(on_duty))
        assert await agent.receive_json_from(timeout=5) == {"type": "queue", "conversations": []}
        visitor, started = await visitor_starts(
            stack, widget, keys, lwicontexts={"msdyn_cartvalue": 250, "msdyn_isvip": False}
        )
        waiting = await agent.receive_json_from(timeout=5)
        assert waiting["type"] == "waiting"
        summary = waiting["conversation"]
        assert summary["id"] == started["conversation"]
        assert summary["authenticated"] is True
        assert summary["verification"]["iss"] == "https://portal.example.com"
        assert {"name": "msdyn_cartvalue", "value": 250} in summary["context"]

        accepted = await answer_to(agent, "accept", summary["id"])
        assert accepted["type"] == "accepted"
        assert accepted["conversation"]["status"] == "active"
        assert await agent.receive_json_from(timeout=5) == {
            "type": "taken",
            "conversation": summary["id"],
        }
        joined = await visitor.receive_json_from(timeout=5)
        assert "joined the conversation" in joined["text"]

        await visitor.send_json_to({"type": "message", "text": "hello agent"})
        assert (await visitor.receive_json_from(timeout=5))["text"] == "hello agent"
        seen = await agent.receive_json_from(timeout=5)
        assert (seen["text"], seen["sender"]) == ("hello agent", "visitor")
        assert seen["conversation"] == summary["id"]
        await agent.send_json_to(
            {"type": "message", "conversation": summary["id"], "text": "hello visitor"}
        )
        assert (await visitor.receive_json_from(timeout=5))["text"] == "hello visitor"


async def test_an_agent_cannot_take_a_conversation_someone_else_took(chat, keys, on_duty):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        _visitor, started = await visitor_starts(stack, widget, keys)
        await database_sync_to_async(
            Conversation.objects.filter(pk=started["conversation"]).update
        )(status=Conversation.Status.ACTIVE)
        agent = await stack.enter_async_context(console(on_duty))
        await agent.receive_json_from(timeout=5)
        taken = started["conversation"]
        assert (await answer_to(agent, "accept", taken))["code"] == "already_taken"
        assert (await answer_to(agent, "message", taken, text="sneaky"))["code"] == "not_found"


async def test_waiting_conversations_are_listed_by_priority_then_age(chat, keys, on_duty):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        _, first = await visitor_starts(stack, widget, keys, lwicontexts={"msdyn_isvip": False})
        _, vip = await visitor_starts(stack, widget, keys, lwicontexts={"msdyn_isvip": True})
        agent = await stack.enter_async_context(console(on_duty))
        listing = await agent.receive_json_from(timeout=5)
        assert [c["id"] for c in listing["conversations"]] == [
            vip["conversation"],
            first["conversation"],
        ]


async def test_someone_who_is_not_an_agent_is_refused(charlie):
    agent = await agent_socket(charlie)
    await agent.connect()
    frame = await agent.receive_json_from(timeout=5)
    closing = await agent.receive_output(timeout=5)
    assert frame["code"] == "forbidden"
    assert closing["code"] == 4403
    await agent.disconnect()


async def test_a_member_of_the_agents_group_who_is_not_staff_is_refused(bob):
    bob.is_staff = False
    await database_sync_to_async(bob.save)()
    agent = await agent_socket(bob)
    await agent.connect()
    frame, code = await refusal(agent)
    assert (frame["code"], code) == ("forbidden", 4403)
    await agent.disconnect()


async def test_the_waiting_list_costs_the_same_queries_for_one_or_many(chat, keys, on_duty):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging.conversations import waiting_summaries

    widget, _ = chat
    queue_ids = [
        queue.pk for queue in await database_sync_to_async(list)(widget.workstream.queues.all())
    ]

    async def count_queries() -> int:
        def run():
            with CaptureQueriesContext(connection) as captured:
                waiting_summaries(queue_ids, limit=MAX_QUEUE_FRAME)
            return len(captured)

        return await database_sync_to_async(run)()

    async with AsyncExitStack() as stack:
        await visitor_starts(stack, widget, keys)
        one = await count_queries()
        for _ in range(4):
            await visitor_starts(stack, widget, keys)
        assert await count_queries() == one


@pytest.mark.parametrize("conversation", [["a"], {"id": 1}, None])
async def test_an_agent_frame_naming_no_conversation_is_refused_not_a_crash(on_duty, conversation):
    agent = await agent_socket(on_duty)
    await agent.connect()
    try:
        await agent.receive_json_from(timeout=5)
        assert (await answer_to(agent, "message", conversation, text="x"))["code"] == "not_found"
        assert (await answer_to(agent, "accept", conversation))["code"] == "bad_frame"
    finally:
        await agent.disconnect()


async def test_an_agent_cannot_accept_a_conversation_outside_their_queues(chat, keys, bob):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        _visitor, started = await visitor_starts(stack, widget, keys)
        # An agent, but on no queue of this workstream.
        agent = await stack.enter_async_context(console(bob))
        assert (await agent.receive_json_from(timeout=5))["conversations"] == []
        assert (await answer_to(agent, "accept", started["conversation"]))["code"] == "not_found"


async def test_a_closed_conversation_takes_no_more_messages_and_closes_once(chat, keys, on_duty):
    from messaging import actions
    from messaging.models import Message

    widget, _ = chat
    async with AsyncExitStack() as stack:
        _visitor, started = await visitor_starts(stack, widget, keys)
    conversation = await database_sync_to_async(Conversation.objects.get)(
        pk=started["conversation"]
    )
    close = database_sync_to_async(actions.do_close_conversation)
    await close(conversation, acting_user=on_duty)
    await close(conversation, acting_user=on_duty)
    closings = database_sync_to_async(
        Message.objects.filter(conversation=conversation, text__contains="closed").count
    )
    assert await closings() == 1
    with pytest.raises(actions.ActionRefused):
        await database_sync_to_async(actions.do_post_message)(
            conversation.pk, sender="visitor", text="too late"
        )


async def test_the_first_queue_frame_holds_only_the_200_most_urgent_conversations(chat, on_duty):
    widget, _ = chat
    queue = await database_sync_to_async(lambda: widget.workstream.default_queue)()
    count = MAX_QUEUE_FRAME + 5
    await database_sync_to_async(Conversation.objects.bulk_create)(
        Conversation(channel_instance=widget, queue=queue, priority=priority)
        for priority in range(count)
    )
    agent = await agent_socket(on_duty)
    await agent.connect()
    try:
        listing = await agent.receive_json_from(timeout=5)
        assert [c["priority"] for c in listing["conversations"]] == list(
            range(count - 1, count - 1 - MAX_QUEUE_FRAME, -1)
        )
    finally:
        await agent.disconnect()


async def test_both_sockets_leave_every_group_when_they_disconnect(chat, keys, on_duty):
    widget, _ = chat
    layer = get_channel_layer()
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(console(on_duty))
        await agent.receive_json_from(timeout=5)
        _visitor, started = await visitor_starts(stack, widget, keys)
        await agent.receive_json_from(timeout=5)  # waiting
        assert (await answer_to(agent, "accept", started["conversation"]))["type"] == "accepted"
        assert layer.groups

    assert layer.groups == {}


async def test_an_agent_refused_a_conversation_hears_nothing_of_it(chat, keys, on_duty, workstream):
    """Accepting listens to the conversation before its transcript is read: once refused, not
    an event about it reaches the console, even one that reached its socket meanwhile."""
    widget, _ = chat
    carol = await database_sync_to_async(make_agent)("carol")
    await database_sync_to_async(carol.queues.add)(
        *await database_sync_to_async(list)(workstream.queues.all())
    )
    async with AsyncExitStack() as stack:
        holder = await stack.enter_async_context(console(on_duty))
        other = await stack.enter_async_context(console(carol))
        for agent in (holder, other):
            assert (await agent.receive_json_from(timeout=5))["type"] == "queue"
        visitor, started = await visitor_starts(stack, widget, keys)
        conversation = started["conversation"]
        for agent in (holder, other):
            assert (await agent.receive_json_from(timeout=5))["type"] == "waiting"
        assert (await answer_to(holder, "accept", conversation))["type"] == "accepted"
        assert (await holder.receive_json_from(timeout=5))["type"] == "taken"
        await visitor.receive_json_from(timeout=5)  # the agent joined
        assert (await other.receive_json_from(timeout=5))["type"] == "taken"

        refused = await answer_to(other, "accept", conversation)
        assert refused["code"] == "already_taken"
        # As if told while the refused accept was being checked.
        await get_channel_layer().group_send(
            agent_group(carol.pk),
            {
                "type": "conversation.typing",
                "conversation": conversation,
                "typing": True,
            },
        )
        await visitor.send_json_to({"type": "message", "text": "for bob only"})

        assert (await holder.receive_json_from(timeout=5))["text"] == "for bob only"
        assert await other.receive_nothing(timeout=0.3)


async def test_accepting_a_conversation_again_keeps_it(chat, keys, on_duty):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(console(on_duty))
        await agent.receive_json_from(timeout=5)  # queue
        _, started = await visitor_starts(stack, widget, keys)
        conversation = started["conversation"]
        await agent.receive_json_from(timeout=5)  # waiting
        assert (await answer_to(agent, "accept", conversation))["type"] == "accepted"
        await agent.receive_json_from(timeout=5)  # taken

        assert (await answer_to(agent, "accept", conversation))["code"] == "already_taken"
        await agent.send_json_to({"type": "message", "conversation": conversation, "text": "hi"})

        echoed = await agent.receive_json_from(timeout=5)
        assert (echoed["type"], echoed["text"]) == ("message", "hi")
