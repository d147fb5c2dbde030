"""Idle started sockets on one server process: the memory each holds, and a chat start's time
beside them, against the same number of idle sockets on a bare echo consumer's process.

The goal: 10,000 idle started sockets on one process, at most 30 KiB each, and a chat start on
that process under 2x its time on an idle one. Nothing is asserted; every figure is printed
beside its baseline from the same run.

One daphne process serves the platform (`contactcenter.asgi:application`, as production runs
it) with no start or message limits. The driver times R chat starts on it while it is idle
(connect, `start` with a JWT, `started`, close: bench_chat_start.py's `timed`), reads its
resident set (VmRSS), opens N sockets, each from a loopback address of its own and each
started, a few hundred at a time, holds them all open and quiet, rests a few seconds and reads
the resident set again: (after - before) / N is the memory per socket. Then it times R chat
starts again with the N sockets held. The baseline: another daphne process with
_servers.py's bare echo consumer, N sockets each sending one frame and reading its
echo, held the same way: what Channels and daphne alone keep per socket.

On the throwaway SQLite database of `_setup` and the in-memory channel layer by default; on
PostgreSQL and Redis (production's shape) when BENCH_DATABASE_URL and BENCH_REDIS_URL name them.

Run:
  .venv/bin/python bench/bench_idle_sockets.py --sockets 10000

  eval "$(.ci/services start)"
  BENCH_DATABASE_URL=$DATABASE_URL BENCH_REDIS_URL=$REDIS_URL \\
      .venv/bin/python bench/bench_idle_sockets.py --sockets 10000
  .ci/services stop
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from dataclasses import dataclass, field

import _setup
import bench_chat_start
import websockets
from _servers import COMMANDS, ECHO, PLATFORM, Servers, address

OPENING_AT_ONCE = 200
TIMEOUT = 60
REST_SECONDS = 5


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit, which the server processes
    it starts inherit; returns the limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Held:
    """Sockets opened and held on one server, and its resident set before and after."""

    before_kib: int
    after_kib: int = 0
    opening_seconds: float = 0.0
    open_at_end: int = 0
    sockets: list = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def per_socket_kib(self) -> float:
        return (self.after_kib - self.before_kib) / max(1, len(self.sockets))

    def count_open(self) -> None:
        """Note how many of the sockets the server has not closed."""
        self.open_at_end = sum(1 for socket in self.sockets if socket.close_code is None)


async def hold(server: Servers, url: str, count: int, frame: dict, answer: str) -> Held:
    """Open `count` sockets to `url`, OPENING_AT_ONCE at a time, each sending `frame` and
    reading a frame of type `answer`, and keep them open; after REST_SECONDS of quiet, the
    server's resident set again."""
    held = Held(before_kib=server.resident_kib())
    limit = asyncio.Semaphore(OPENING_AT_ONCE)

    async def one(number: int) -> None:
        async with limit:
            socket = await websockets.connect(
                url,
                origin=bench_chat_start.SITE,
                local_addr=address(number),
                open_timeout=TIMEOUT,
                ping_interval=None,  # the server's pings, answered, are the only traffic
            )
            await socket.send(json.dumps(frame))
            received = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
            if received.get("type") != answer:
                await socket.close()
                raise RuntimeError(f"{received.get('type')} {received.get('code', '')}".strip())
            held.sockets.append(socket)

    began = time.perf_counter()
    results = await asyncio.gather(*(one(n) for n in range(count)), return_exceptions=True)
    held.opening_seconds = time.perf_counter() - began
    held.errors = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    await asyncio.sleep(REST_SECONDS)
    held.after_kib = server.resident_kib()
    return held


async def close_all(held: Held) -> None:
    await asyncio.gather(*(socket.close() for socket in held.sockets), return_exceptions=True)


async def echo_run(args) -> Held:
    server = Servers(ECHO, 1, args.port + 1, args.server)
    try:
        await server.ready()
        url = f"ws://127.0.0.1:{server.ports[0]}/ws/echo/"
        await bench_chat_start.timed(5, url, {"type": "ping"}, answer="ping")  # warm up
        held = await hold(server, url, args.sockets, {"type": "ping"}, "ping")
        held.count_open()
        await close_all(held)
    finally:
        server.stop()
    return held


async def chat_run(args, widget_id, token: str) -> tuple[Held, float, float]:
    server = Servers(PLATFORM, 1, args.port, args.server)
    try:
        await server.ready()
        url = f"ws://127.0.0.1:{server.ports[0]}/ws/widget/{widget_id}/"
        start = {"type": "start", "token": token}
        await bench_chat_start.timed(
            5, url, start, answer="started"
        )  # warm up: key fetch, connections
        idle = await bench_chat_start.timed(args.rounds, url, start, answer="started")
        held = await hold(server, url, args.sockets, start, "started")
        loaded = await bench_chat_start.timed(args.rounds, url, start, answer="started")
        held.count_open()
        await close_all(held)
    finally:
        server.stop()
    return held, idle, loaded


def report(name: str, held: Held, sockets: int) -> None:
    mib = 1024
    print(
        f"{name}: {len(held.sockets)} of {sockets} held (opened in {held.opening_seconds:.1f} s, "
        f"{held.open_at_end} still open at the end), RSS {held.before_kib / mib:.1f} -> "
        f"{held.after_kib / mib:.1f} MiB: {held.per_socket_kib():.1f} KiB per socket"
    )
    for error in sorted(set(held.errors))[:5]:
        print(f"      {held.errors.count(error)} x {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--server", choices=sorted(COMMANDS), default="daphne")
    args = parser.parse_args()
    files = raise_file_limit()
    if files < args.sockets + 100:
        sys.exit(f"The open-file limit ({files}) is too low for {args.sockets} sockets.")
    key = _setup.new_key()
    key_server = _setup.KeyServer(_setup.public_pem(key))
    widget = bench_chat_start.make_widget(key_server.url)
    token = _setup.token(key)
    try:
        echo = asyncio.run(echo_run(args))
        chat, idle, loaded = asyncio.run(chat_run(args, widget.widget_id, token))
    finally:
        key_server.stop()
    shape = (
        "PostgreSQL, Redis channel layer"
        if os.environ.get("BENCH_REDIS_URL")
        else "SQLite, in-memory channel layer"
    )
    print(
        f"{args.sockets} idle sockets on one {args.server} process ({shape}), {args.rounds} rounds"
    )
    report("echo", echo, args.sockets)
    report("chat", chat, args.sockets)
    versus = (
        f", {chat.per_socket_kib() / echo.per_socket_kib():.2f}x the echo consumer's"
        if echo.per_socket_kib() > 0
        else ""
    )
    print(f"memory per started socket: {chat.per_socket_kib():.1f} KiB (target <= 30){versus}")
    print(f"chat start on the idle process:    {idle * 1000:7.2f} ms")
    print(f"chat start with the sockets held:  {loaded * 1000:7.2f} ms")
    print(f"ratio held/idle: {loaded / idle:.2f}   (target < 2)")


if __name__ == "__main__":
    main()
