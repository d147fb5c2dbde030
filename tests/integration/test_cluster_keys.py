"""A cold key cache: the chats that start at once on the cluster's processes, before any holds
the key, have the key URL fetched once (on Redis, make test's integration run, over two
processes; without Redis, on the one that serves)."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from tests.keyserver import token_for
from tests.live import cluster, receive

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"
STARTS = 16  # under the open sockets allowed from one address


async def first_answer(server, widget, token) -> dict:
    url = f"{server.ws_url}/ws/widget/{widget.widget_id}/"
    async with websockets.connect(url, origin=SITE) as socket:
        await socket.send(json.dumps({"type": "start", "token": token}))
        return await receive(socket)


@pytest.fixture
def servers(django_db_blocker, chat):
    with cluster(django_db_blocker) as started:
        yield started


async def test_concurrent_starts_on_a_cold_cache_fetch_the_key_once_for_the_cluster(
    servers, chat, keys, key_server
):
    widget, _ = chat
    answers = await asyncio.gather(
        *(first_answer(servers[n % len(servers)], widget, token_for(keys)) for n in range(STARTS))
    )
    assert [answer["type"] for answer in answers] == ["started"] * STARTS
    assert key_server.hits["/publickey"] == 1
