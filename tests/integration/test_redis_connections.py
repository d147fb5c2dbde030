"""A server process reaches Redis through a few connections however many sockets it holds:
the shared cache (rate limits, the start cache, keys) through one client per process, the
channel layer through one subscription and one publishing connection; and it subscribes to
its sockets' conversations, not to a channel of each socket (messaging.direct_channels).
Served as production serves it: daphne started from its command line, not forked from the
test."""

from __future__ import annotations

import os
from contextlib import AsyncExitStack

import pytest
import redis
import websockets

from tests.keyserver import token_for
from tests.live import daphne_on_the_test_database, receive

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"
SOCKETS = 40


def redis_clients() -> int:
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        return len(client.client_list()) - 1  # less this one


def subscriptions(pattern: str) -> list[bytes]:
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        return client.pubsub_channels(pattern)


async def test_a_process_holding_many_started_sockets_holds_a_few_redis_connections(chat, keys):
    widget, _ = chat
    with daphne_on_the_test_database() as base:
        url = f"{base}/ws/widget/{widget.widget_id}/"
        async with AsyncExitStack() as stack:
            for number in range(SOCKETS):
                chat_socket = await stack.enter_async_context(
                    websockets.connect(url, origin=SITE, local_addr=(f"127.0.9.{number + 1}", 0))
                )
                token = token_for(keys, sub=f"customer-{number}")
                await chat_socket.send(f'{{"type": "start", "token": "{token}"}}')
                assert (await receive(chat_socket))["type"] == "started"
                if number == 0:
                    with_one = redis_clients()

            assert redis_clients() - with_one < 3
            assert subscriptions("*specific.*") == []
            assert len(subscriptions("*__group__conversation*")) == SOCKETS
