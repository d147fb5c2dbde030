"""A server process reaches Redis through a few connections however many sockets it holds:
the shared cache (rate limits, the start cache, keys) through one client per process, the
channel layer through one subscription and one publishing connection. Served as production
serves it: daphne started from its command line, not forked from the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager

import pytest
import redis
import websockets
from django.db import connection

from tests.keyserver import token_for
from tests.live import free_port, receive

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"
SOCKETS = 40


@contextmanager
def daphne_on_the_test_database() -> Iterator[str]:
    """`daphne contactcenter.asgi:application` on a free loopback port, using the test
    database; yields its ws:// address."""
    database = connection.settings_dict
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "CC_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
    }
    server = subprocess.Popen(  # noqa: S603  (our own command line)
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "contactcenter.asgi:application",
        ],
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert time.monotonic() < deadline, "daphne did not start"
            time.sleep(0.2)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def redis_clients() -> int:
    with redis.Redis.from_url(os.environ["REDIS_URL"]) as client:
        return len(client.client_list()) - 1  # less this one


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
