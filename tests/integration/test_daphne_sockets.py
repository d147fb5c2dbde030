"""daphne's sockets let go of their handshake once open (contactcenter.daphne_sockets): a
chat on such a socket goes on as before, and daphne's log lines, which name the socket's path
when it connects and when it closes, still do. Served by daphne started from its command line,
as production serves it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from tests.keyserver import token_for
from tests.live import daphne_on_the_test_database, receive, receive_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"


async def test_a_chat_goes_on_once_daphne_let_go_of_the_handshake(chat, keys, tmp_path):
    widget, _ = chat
    path = f"/ws/widget/{widget.widget_id}/"
    log = tmp_path / "daphne.log"
    with log.open("w") as output, daphne_on_the_test_database(output) as base:
        async with websockets.connect(f"{base}{path}", origin=SITE) as chat_socket:
            await chat_socket.send(json.dumps({"type": "start", "token": token_for(keys)}))
            assert (await receive(chat_socket))["type"] == "started"
            await chat_socket.send(json.dumps({"type": "message", "text": "Hello"}))
            said = await receive_until(chat_socket, "message")
            while said["text"] != "Hello":
                said = await receive_until(chat_socket, "message")
        deadline = time.monotonic() + 10
        while f"WSDISCONNECT {path}" not in log.read_text() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    written = log.read_text()
    assert f"WSCONNECT {path}" in written
    assert f"WSDISCONNECT {path}" in written
    assert "Traceback" not in written
