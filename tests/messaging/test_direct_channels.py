"""On the Redis Pub/Sub layer a socket's channel is one of this process only, fed straight into
the socket's queue (messaging.direct_channels): a chat is heard both ways through it, and once
its sockets end, the visitor's and the agent's, the layer keeps no channel and no group of
them."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

from messaging.direct_channels import ServerQueueChannel
from messaging.presence import presence
from tests.keyserver import token_for
from tests.messaging.sockets import answer_to, console, socket

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def database_thread_let_go():
    """After the test the visitors who left are written down and the sockets' database thread
    closes its connection, so that the test database (PostgreSQL here) can be dropped."""
    yield
    writer = presence.left_writer
    if writer is not None and writer.get_loop() is asyncio.get_running_loop():
        await asyncio.wait_for(writer, timeout=5)
    await database_sync_to_async(connections.close_all)()


def kept_by_the_layer() -> tuple[dict, dict]:
    """This process's channels and groups in the layer."""
    loop_layer = get_channel_layer()._get_layer()
    return loop_layer.channels, loop_layer.groups


async def test_a_chat_is_heard_through_direct_channels_and_leaves_nothing_behind(
    chat, keys, on_duty
):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        agent = await stack.enter_async_context(console(on_duty))
        await agent.receive_json_from(timeout=5)  # the queue
        visitor = await stack.enter_async_context(socket(widget.widget_id))
        await visitor.send_json_to({"type": "start", "token": token_for(keys)})
        started = await visitor.receive_json_from(timeout=5)
        await visitor.receive_json_from(timeout=5)  # the system message
        assert (await agent.receive_json_from(timeout=5))["type"] == "waiting"
        channels, _ = kept_by_the_layer()
        assert len(channels) == 2
        assert all(isinstance(channel, ServerQueueChannel) for channel in channels.values())

        assert (await answer_to(agent, "accept", started["conversation"]))["type"] == "accepted"
        await agent.receive_json_from(timeout=5)  # taken
        assert "joined" in (await visitor.receive_json_from(timeout=5))["text"]
        await visitor.send_json_to({"type": "message", "text": "hello agent"})
        assert (await visitor.receive_json_from(timeout=5))["text"] == "hello agent"
        assert (await agent.receive_json_from(timeout=5))["text"] == "hello agent"

    assert kept_by_the_layer() == ({}, {})
