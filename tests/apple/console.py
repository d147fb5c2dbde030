"""An agent on the console socket with an Apple conversation accepted, and the sweep run at a
moment the test chooses."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime

from channels.db import database_sync_to_async
from django.test import Client

from messaging import sweeps
from tests.apple.device import text
from tests.messaging.sockets import console


async def accepted(stack: AsyncExitStack, agent_user, **options):
    """The agent's socket, and the id of an Apple conversation the customer started and the
    agent accepted (with the summary the agent saw waiting)."""
    agent = await stack.enter_async_context(console(agent_user))
    assert (await agent.receive_json_from(timeout=5))["type"] == "queue"
    response = await database_sync_to_async(text)(Client(), "Hello from Messages", **options)
    assert response.status_code == 200
    waiting = await agent.receive_json_from(timeout=5)
    assert waiting["type"] == "waiting"
    summary = waiting["conversation"]
    await agent.send_json_to({"type": "accept", "conversation": summary["id"]})
    assert (await agent.receive_json_from(timeout=5))["type"] == "accepted"
    assert (await agent.receive_json_from(timeout=5))["type"] == "taken"
    return agent, summary


async def sweep(now: datetime) -> None:
    await database_sync_to_async(sweeps.sweep)(now)
