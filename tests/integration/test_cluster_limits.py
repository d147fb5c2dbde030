"""The widget's limits per client address hold for the whole platform, not per server process:
on PostgreSQL and Redis (make test's integration run) the starts and sockets of one address are
counted together on two processes; without Redis, on the one process that serves."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import pytest
import websockets

from messaging import ratelimits
from tests.keyserver import token_for
from tests.live import cluster, receive

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"
STARTS_PER_MINUTE = 3


@pytest.fixture
def limited_servers(django_db_blocker, chat, settings):
    """The cluster, forked once the start limit is set."""
    settings.CC_WIDGET_STARTS_PER_MINUTE = STARTS_PER_MINUTE
    with cluster(django_db_blocker) as started:
        yield started


@pytest.fixture
def servers(django_db_blocker, chat):
    with cluster(django_db_blocker) as started:
        yield started


async def away_from_a_new_minute() -> None:
    """Starts are counted per minute of the clock: begin where the next few seconds stay in
    one minute."""
    second = time.time() % ratelimits.WINDOW_SECONDS
    if second > ratelimits.WINDOW_SECONDS - 15:
        await asyncio.sleep(ratelimits.WINDOW_SECONDS - second + 0.5)


def widget_url(server, widget) -> str:
    return f"{server.ws_url}/ws/widget/{widget.widget_id}/"


async def first_answer(server, widget, token) -> tuple[dict, websockets.ClientConnection]:
    socket = await websockets.connect(widget_url(server, widget), origin=SITE)
    await socket.send(f'{{"type": "start", "token": "{token}"}}')
    return await receive(socket), socket


async def test_starts_from_one_address_are_counted_together_on_every_process(
    limited_servers, chat, keys
):
    widget, _ = chat
    await away_from_a_new_minute()
    # Round the servers: with two, the starts alternate between the processes.
    order = [limited_servers[n % len(limited_servers)] for n in range(STARTS_PER_MINUTE + 1)]
    for server in order[:-1]:
        answer, socket = await first_answer(server, widget, token_for(keys))
        assert answer["type"] == "started", answer
        await socket.close()
    answer, socket = await first_answer(order[-1], widget, token_for(keys))
    assert answer["code"] == "rate_limited"
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        await receive(socket)
    assert closed.value.rcvd.code == 4429


async def test_open_sockets_of_one_address_are_counted_together_on_every_process(servers, chat):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        for n in range(ratelimits.MAX_SOCKETS_PER_ADDRESS):
            server = servers[n % len(servers)]
            await stack.enter_async_context(
                websockets.connect(widget_url(server, widget), origin=SITE)
            )
        over = await websockets.connect(widget_url(servers[-1], widget), origin=SITE)
        answer = await receive(over)
        assert (answer["type"], answer["code"]) == ("error", "rate_limited")
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            await receive(over)
        assert closed.value.rcvd.code == 4429
