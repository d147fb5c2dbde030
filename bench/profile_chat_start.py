"""Where a chat start's time goes: each step's share and queries.

Two measures of the same start, in one run:
- the whole start through the widget's consumer (Channels' WebsocketCommunicator: connect,
  `start` with a JWT, `started`), timed per start;
- the steps the consumer takes, called in its order on this thread, each timed and its
  queries counted: widget and deployments, origin, token, context, routing, the writes (which
  hand back the transcript, so there is no replay to read), the tell to the agents' queue. The
  writes are the start's inserts without its routing and tell (both timed inside it with
  cProfile, which sees only this thread).

Run: .venv/bin/python bench/profile_chat_start.py [starts]
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import sys
import time
from collections import defaultdict

os.environ["CC_WIDGET_STARTS_PER_MINUTE"] = "0"

import _setup
from bench_chat_start import SITE, make_widget
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contactcenter.asgi import application
from messaging import conversations, customer_sessions, origins
from workstreams.routing import choose_route


async def one_start(widget_id, token: str) -> float:
    communicator = WebsocketCommunicator(
        application,
        f"/ws/widget/{widget_id}/",
        headers=[(b"origin", SITE.encode()), (b"host", b"localhost:8000")],
    )
    began = time.perf_counter()
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "start", "token": token})
    frame = await communicator.receive_json_from(timeout=10)
    elapsed = time.perf_counter() - began
    assert frame["type"] == "started", frame
    while True:  # the replay: the start's system message
        frame = await communicator.receive_json_from(timeout=10)
        if frame["type"] == "message":
            break
    await communicator.disconnect()
    return elapsed


def steps(widget_id, token: str, totals, queries) -> None:
    """The consumer's steps, in its order, on this thread."""

    def step(name, function, *args, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            result = function(*args, **kwargs)
            totals[name] += time.perf_counter() - began
        queries[name] += len(captured.captured_queries)
        return result

    reads = step("widget and deployments", conversations.find_widget, widget_id)
    widget = reads.widget
    matched = step(
        "origin",
        origins.check_origin,
        SITE,
        own=origins.parse_origin("http://localhost:8000"),
        deployments=reads.deployments,
        deployment_id=None,
    )
    deployment = step("deployment", reads.deployment_rows.get, str(matched.deployment_id))
    verified = step("token", conversations.verify_token, widget, token, now=time.time())
    arrival = step("context", conversations.check_arrival, widget, verified)
    routing = reads.routing  # read with the widget, under the same version
    step(
        "routing",
        choose_route,
        routing.rules,
        default_queue_id=routing.default_queue_id,
        variable_types=routing.variable_types,
        authenticated=True,
        context=arrival.context,
    )
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        profile.enable()
        customer_sessions.start_or_continue(widget, deployment, arrival, routing=routing)
        profile.disable()
        elapsed = time.perf_counter() - began
    inside = pstats.Stats(profile).stats
    cumulative = {
        name: sum(stat[3] for key, stat in inside.items() if key[2] == name)
        for name in ("routing", "choose_route", "tell")
    }
    scale = elapsed / max(
        sum(stat[3] for key, stat in inside.items() if key[2] == "start_or_continue"), 1e-9
    )
    routing_inside = (cumulative["routing"] + cumulative["choose_route"]) * scale
    tell_inside = cumulative["tell"] * scale  # the writes have committed: it sends at once
    totals["writes"] += elapsed - routing_inside - tell_inside
    totals["tell"] += tell_inside
    queries["writes"] += len(captured.captured_queries)


def main(starts: int) -> None:
    key = _setup.new_key()
    key_server = _setup.KeyServer(_setup.public_pem(key))
    widget = make_widget(key_server.url)
    token = _setup.token(key)
    try:
        asyncio.run(one_start(widget.widget_id, token))  # warm up: the key fetch
        whole = [asyncio.run(one_start(widget.widget_id, token)) for _ in range(starts)]
        totals: dict[str, float] = defaultdict(float)
        queries: dict[str, int] = defaultdict(int)
        for _ in range(starts):
            steps(widget.widget_id, token, totals, queries)
    finally:
        key_server.stop()
    whole.sort()
    mean = sum(whole) / starts
    print(
        f"whole start through the consumer: mean {mean * 1000:.2f} ms, "
        f"median {whole[starts // 2] * 1000:.2f} ms ({starts} starts)"
    )
    steps_total = sum(totals.values())
    print(
        f"its steps on one thread: {steps_total / starts * 1000:.2f} ms "
        f"(the rest, {max(mean - steps_total / starts, 0) * 1000:.2f} ms: the socket, "
        f"thread hops, the rate limits' cache)"
    )
    print(f"{'step':24} {'ms':>7} {'share':>6} {'queries':>8}")
    for name, total in totals.items():
        print(
            f"{name:24} {total / starts * 1000:7.3f} {total / steps_total:6.1%} "
            f"{queries[name] / starts:8.1f}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
