"""Sockets with nothing to say stay open: after IDLE_SECONDS of quiet, an agent still hears the
next chat and both ends of a chat still hear each other, on one server process and across two.

On Redis the channel layer waits for a process's events on one subscription connection, read
in short timed steps; an idle socket lives through many of them and through REDIS_READ_SECONDS."""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack

import pytest
import websockets

from tests.keyserver import token_for
from tests.live import agent_cookie, cluster, receive, receive_until, start_server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"
# Longer than a read of Redis may wait (settings.REDIS_READ_SECONDS).
IDLE_SECONDS = 20


@pytest.fixture
def server(django_db_blocker, chat):
    started = start_server(django_db_blocker)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def servers(django_db_blocker, chat):
    """The visitor's server and the agent's (another process only where Redis joins them)."""
    with cluster(django_db_blocker) as started:
        yield started


async def receive_each(socket, frame_types: set[str]) -> None:
    """Receive until a frame of each type has come, in any order."""
    left = set(frame_types)
    while left:
        left.discard((await receive(socket))["type"])


async def stays_quiet(socket) -> None:
    """Nothing arrives for IDLE_SECONDS and the socket stays open: had the server closed it,
    `recv` would raise websockets' ConnectionClosedError with the close code."""
    try:
        frame = await receive(socket, timeout=IDLE_SECONDS)
    except TimeoutError:
        return
    pytest.fail(f"An idle socket was sent {frame} (on {socket.request.path})")


async def agent_socket(stack: AsyncExitStack, server, cookie: str):
    return await stack.enter_async_context(
        websockets.connect(
            f"{server.ws_url}/ws/agent/", origin=server.url, additional_headers={"Cookie": cookie}
        )
    )


async def visitor_socket(stack: AsyncExitStack, server, widget_id):
    return await stack.enter_async_context(
        websockets.connect(f"{server.ws_url}/ws/widget/{widget_id}/", origin=SITE)
    )


async def waiting_after_quiet(server, widget_id, token: str, cookie: str) -> tuple[dict, dict]:
    """An agent idle on the server, then a visitor starting a chat there: what the visitor
    was told, and the `waiting` frame the agent heard."""
    async with AsyncExitStack() as stack:
        agent = await agent_socket(stack, server, cookie)
        assert (await receive(agent))["type"] == "queue"
        await stays_quiet(agent)
        visitor = await visitor_socket(stack, server, widget_id)
        await visitor.send(json.dumps({"type": "start", "token": token}))
        started = await receive_until(visitor, "started")
        return started, await receive_until(agent, "waiting")


async def chat_after_quiet(visitor_server, agent_server, widget_id, token, cookie) -> list[dict]:
    """A chat started and accepted, both ends idle, then a message each way: the frames
    each end heard of the other's message, the agent's first."""
    async with AsyncExitStack() as stack:
        agent = await agent_socket(stack, agent_server, cookie)
        visitor = await visitor_socket(stack, visitor_server, widget_id)
        assert (await receive(agent))["type"] == "queue"
        await visitor.send(json.dumps({"type": "start", "token": token}))
        conversation = (await receive_until(visitor, "started"))["conversation"]
        await receive_until(agent, "waiting")
        await agent.send(json.dumps({"type": "accept", "conversation": conversation}))
        await receive_each(agent, {"accepted", "taken"})
        # The visitor hears the chat's first system messages, the last that the agent joined.
        while "joined" not in (await receive_until(visitor, "message"))["text"]:
            pass

        await asyncio.gather(stays_quiet(agent), stays_quiet(visitor))

        await visitor.send(json.dumps({"type": "message", "text": "still there?"}))
        heard_by_agent = await receive_until(agent, "message")
        await agent.send(
            json.dumps({"type": "message", "conversation": conversation, "text": "yes"})
        )
        heard_by_visitor = await receive_until(visitor, "message")
        while heard_by_visitor["sender"] != "agent":  # the visitor's own message comes back
            heard_by_visitor = await receive_until(visitor, "message")
        return [heard_by_agent, heard_by_visitor]


def test_an_idle_agent_socket_hears_the_next_waiting_chat(server, chat, keys, bob):
    widget, _ = chat
    for queue in widget.workstream.queues.all():
        queue.agents.add(bob)
    started, waiting = asyncio.run(
        waiting_after_quiet(server, widget.widget_id, token_for(keys), agent_cookie(bob))
    )
    assert waiting["conversation"]["id"] == started["conversation"]


def test_an_idle_chat_goes_on_across_server_processes(servers, chat, keys, bob):
    widget, _ = chat
    for queue in widget.workstream.queues.all():
        queue.agents.add(bob)
    heard = asyncio.run(
        chat_after_quiet(
            servers[0], servers[-1], widget.widget_id, token_for(keys), agent_cookie(bob)
        )
    )
    assert [(frame["sender"], frame["text"]) for frame in heard] == [
        ("visitor", "still there?"),
        ("agent", "yes"),
    ]
