"""A chat over real sockets to real server processes: on PostgreSQL and Redis (make test's
integration run), the visitor and the agent are on two processes that talk through the
channels-redis layer; without Redis, one process serves both."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from messaging.models import Conversation, Message
from tests.keyserver import token_for
from tests.live import agent_cookie, cluster, start_server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"


@pytest.fixture
def servers(django_db_blocker, chat):
    """The visitor's server and the agent's (another process only where Redis joins them)."""
    with cluster(django_db_blocker) as started:
        yield started


async def receive(socket) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout=10))


async def receive_until(socket, frame_type: str) -> dict:
    while (frame := await receive(socket))["type"] != frame_type:
        pass
    return frame


async def first_part(visitor_server, agent_server, widget_id, token, cookie):
    """Start, accept and exchange messages; return what the visitor was told."""
    async with (
        websockets.connect(
            f"{agent_server.ws_url}/ws/agent/",
            origin=agent_server.url,
            additional_headers={"Cookie": cookie},
        ) as agent,
        websockets.connect(
            f"{visitor_server.ws_url}/ws/widget/{widget_id}/", origin=SITE
        ) as visitor,
    ):
        assert (await receive(agent))["type"] == "queue"
        await visitor.send(json.dumps({"type": "start", "token": token}))
        started = await receive(visitor)
        assert started["type"] == "started" and started["authenticated"] is True
        waiting = await receive_until(agent, "waiting")
        assert waiting["conversation"]["authenticated"] is True
        await agent.send(json.dumps({"type": "accept", "conversation": started["conversation"]}))
        await receive_until(agent, "accepted")
        await visitor.send(json.dumps({"type": "message", "text": "hello from the visitor"}))
        acknowledged = await receive_until(visitor, "message")
        while acknowledged["sender"] != "visitor":
            acknowledged = await receive_until(visitor, "message")
        relayed = await receive_until(agent, "message")
        assert relayed["text"] == "hello from the visitor"
        await agent.send(
            json.dumps(
                {"type": "message", "conversation": started["conversation"], "text": "hi there"}
            )
        )
        answer = await receive_until(visitor, "message")
        assert answer["text"] == "hi there"
        return started


async def after_restart(server, widget_id, started) -> list[dict]:
    async with websockets.connect(
        f"{server.ws_url}/ws/widget/{widget_id}/", origin=SITE
    ) as visitor:
        await visitor.send(
            json.dumps(
                {
                    "type": "resume",
                    "conversation": started["conversation"],
                    "resume_token": started["resume_token"],
                }
            )
        )
        assert (await receive(visitor))["type"] == "resumed"
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(visitor.recv(), timeout=1))
            except TimeoutError:
                return [json.loads(message) for message in messages]


def test_a_visitor_and_an_agent_chat_across_server_processes_and_a_restart(
    servers, chat, keys, bob, django_db_blocker
):
    widget, _ = chat
    for queue in widget.workstream.queues.all():
        queue.agents.add(bob)
    visitor_server, agent_server = servers[0], servers[-1]
    started = asyncio.run(
        first_part(
            visitor_server, agent_server, widget.widget_id, token_for(keys), agent_cookie(bob)
        )
    )

    visitor_server.stop()
    restarted = start_server(django_db_blocker)
    servers.append(restarted)
    replayed = asyncio.run(after_restart(restarted, widget.widget_id, started))

    texts = [frame["text"] for frame in replayed]
    assert "hello from the visitor" in texts
    assert "hi there" in texts
    stored = Message.objects.filter(conversation_id=started["conversation"]).order_by("id")
    assert [m.text for m in stored] == texts
    assert Conversation.objects.get(pk=started["conversation"]).agent == bob
