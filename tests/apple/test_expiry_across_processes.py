"""A sign-in lapses while every server process sweeps: the agent on one of them hears it
within 5 seconds, once (on PostgreSQL and Redis, two processes; without Redis, one)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from datetime import timedelta

import pytest
import websockets
from django.utils import timezone

from messaging import actions
from messaging.models import Conversation
from tests.apple.device import CUSTOMER
from tests.live import agent_cookie, cluster

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LAPSE_SECONDS = 2
TOLD_WITHIN = 5
# Ten sweep ticks of every process, and two of the channel layer's blocking waits on Redis
# (5 seconds each): a second telling, or a socket closed by a quiet wait, would show.
REPEAT_WINDOW = 10


@pytest.fixture
def servers(django_db_blocker, msp, apple_channel):
    with cluster(django_db_blocker) as started:
        yield started


def sweeping(server) -> None:
    """A request starts the process's sweep loop."""
    with urllib.request.urlopen(f"{server.url}/agent/login/", timeout=10) as response:  # noqa: S310
        assert response.status == 200


async def lapse_heard(server, cookie: str, conversation_id: str) -> list[dict]:
    """The authentication frames the agent hears until REPEAT_WINDOW after the first (or
    until the first is overdue): every process sweeps each second, so a second telling would
    come within that while. A socket the server closes meanwhile raises ConnectionClosed."""
    frames = []
    async with websockets.connect(
        f"{server.ws_url}/ws/agent/", origin=server.url, additional_headers={"Cookie": cookie}
    ) as agent:
        deadline = time.monotonic() + LAPSE_SECONDS + TOLD_WITHIN
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = json.loads(await asyncio.wait_for(agent.recv(), timeout=left))
            except TimeoutError:
                break
            if frame["type"] == "authentication" and frame["conversation"] == conversation_id:
                if not frames:
                    deadline = time.monotonic() + REPEAT_WINDOW
                frames.append({**frame, "heard_at": timezone.now()})
    return frames


def test_a_lapsed_sign_in_is_told_to_the_agent_once_whatever_the_processes(
    servers, apple_channel, apple_agent
):
    conversation = actions.do_start_conversation(
        apple_channel, deployment=None, identity=None, context={}, dropped=[], customer_id=CUSTOMER
    ).conversation
    actions.do_accept_conversation(conversation.pk, acting_user=apple_agent)
    for server in servers:
        sweeping(server)
    until = timezone.now() + timedelta(seconds=LAPSE_SECONDS)
    Conversation.objects.filter(pk=conversation.pk).update(
        authenticated=True, subject="customer-1", authenticated_until=until
    )
    frames = asyncio.run(lapse_heard(servers[-1], agent_cookie(apple_agent), str(conversation.pk)))
    assert [frame["authenticated"] for frame in frames] == [False]
    assert frames[0]["heard_at"] - until < timedelta(seconds=TOLD_WITHIN)
    conversation.refresh_from_db()
    assert conversation.expiry_announced_at is not None
