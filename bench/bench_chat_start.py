"""Chat start over a real WebSocket (connect, start, started) against a bare echo consumer's
connect and round trip in the same run, each on a daphne process started from its command line
as production starts it (bench/_servers.py).

Run: .venv/bin/python bench/bench_chat_start.py [rounds]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid

os.environ["CC_WIDGET_STARTS_PER_MINUTE"] = "0"

import _setup
import websockets
from _servers import ECHO, PLATFORM, Servers
from django.core.management import call_command

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Deployment
from workstreams.models import Queue, Workstream

SITE = "https://portal.example.com"
PORT = 18500
BATCHES = 10


def make_widget(key_url: str) -> ChannelInstance:
    call_command("migrate", verbosity=0)
    name = f"Bench {uuid.uuid4().hex[:8]}"  # a database of a server may hold earlier runs'
    workstream = Workstream.objects.create(name=name, channel_type=ChannelType.LIVE_CHAT)
    workstream.default_queue = Queue.objects.create(name="All", workstream=workstream)
    workstream.save()
    setting = AuthenticationSetting.objects.create(
        name=name,
        channel_type=ChannelType.LIVE_CHAT,
        authentication_type=AuthenticationSetting.Type.OAUTH2_IMPLICIT,
        public_key_url=key_url,
        javascript_client_function="auth.getAuthenticationToken",
    )
    widget = ChannelInstance.objects.create(
        name=name,
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=setting,
    )
    Deployment.objects.create(
        name="Bench", channel_instance=widget, allowed_domains=["portal.example.com"]
    )
    return widget


async def timed(rounds: int, url: str, first_frame: dict, *, answer: str) -> float:
    """Mean seconds for connect, one frame out, one frame back, close. Raises RuntimeError when
    the frame back is not of type `answer`: a refused start is far quicker than a start."""
    started = time.perf_counter()
    for _ in range(rounds):
        async with websockets.connect(url, origin=SITE) as socket:
            await socket.send(json.dumps(first_frame))
            frame = json.loads(await socket.recv())
            if frame.get("type") != answer:
                raise RuntimeError(f"{url} answered {frame}, not {answer!r}")
    return (time.perf_counter() - started) / rounds


async def measure(rounds: int, widget_id, token: str) -> tuple[float, float]:
    """Mean seconds of the echo's round trip and of a chat start, measured in alternating
    batches, so that a change in the machine's load weighs on both alike."""
    platform, echo = Servers(PLATFORM, 1, PORT), Servers(ECHO, 1, PORT + 1)
    try:
        await platform.ready()
        await echo.ready()
        start = {"type": "start", "token": token}
        widget_url = f"ws://127.0.0.1:{PORT}/ws/widget/{widget_id}/"
        await timed(5, widget_url, start, answer="started")  # warm up: key fetch, connections
        echo_url = f"ws://127.0.0.1:{PORT + 1}/ws/echo/"
        echo_time = chat_time = 0.0
        for _ in range(BATCHES):
            echo_time += await timed(rounds // BATCHES, echo_url, {"type": "ping"}, answer="ping")
            chat_time += await timed(rounds // BATCHES, widget_url, start, answer="started")
        return echo_time / BATCHES, chat_time / BATCHES
    finally:
        platform.stop()
        echo.stop()


def main(rounds: int) -> None:
    rounds = max(rounds // BATCHES, 1) * BATCHES
    key = _setup.new_key()
    key_server = _setup.KeyServer(_setup.public_pem(key))
    widget = make_widget(key_server.url)
    try:
        echo, chat = asyncio.run(measure(rounds, widget.widget_id, _setup.token(key)))
    finally:
        key_server.stop()
    print(f"bare echo consumer, connect + round trip: {echo * 1000:7.2f} ms")
    print(f"chat start (connect, start, started):     {chat * 1000:7.2f} ms")
    print(f"ratio chat start/echo: {chat / echo:.2f}   ({rounds} rounds each)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
