"""A cold key cache across a cluster: C concurrent chat starts spread over K daphne processes
on PostgreSQL and Redis, the first for a key URL nobody has fetched yet; prints how many times
the key server was asked (the goal: once for the cluster) beside the starts that succeeded.

Run (PostgreSQL and Redis from .ci/services):
  BENCH_DATABASE_URL=$DATABASE_URL BENCH_REDIS_URL=$REDIS_URL \\
      .venv/bin/python bench/bench_cold_cluster.py --starts 200 --processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import _setup
import websockets
from bench_chat_start import make_widget
from bench_load import SITE, TIMEOUT, Servers, address


async def start(url: str, token: str, number: int) -> str:
    async with websockets.connect(url, origin=SITE, local_addr=address(number)) as socket:
        await socket.send(json.dumps({"type": "start", "token": token}))
        return json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))["type"]


async def run(args, widget_id, token: str) -> tuple[list, float]:
    servers = Servers("contactcenter.asgi:application", args.processes, args.port)
    try:
        await servers.ready()
        began = time.perf_counter()
        urls = [f"ws://127.0.0.1:{port}/ws/widget/{widget_id}/" for port in servers.ports]
        answers = await asyncio.gather(
            *(start(urls[n % len(urls)], token, n) for n in range(args.starts)),
            return_exceptions=True,
        )
        return answers, time.perf_counter() - began
    finally:
        servers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--port", type=int, default=18300)
    args = parser.parse_args()
    key = _setup.new_key()
    key_server = _setup.KeyServer(_setup.public_pem(key))
    widget = make_widget(key_server.url)  # a new key URL: no process or cache knows its key
    try:
        answers, elapsed = asyncio.run(run(args, widget.widget_id, _setup.token(key)))
    finally:
        key_server.stop()
    started = sum(answer == "started" for answer in answers)
    print(
        f"{args.starts} concurrent starts on {args.processes} processes, cold key cache: "
        f"{sum(key_server.fetches.values())} key fetch(es), {started} started, "
        f"{args.starts - started} not, {elapsed:.2f} s"
    )


if __name__ == "__main__":
    main()
