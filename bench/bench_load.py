"""Load over real WebSockets against K server processes on PostgreSQL and Redis, beside the
same harness against K processes of a bare echo consumer, in one run.

Each of N visitors (at most C at a time, spread over the processes as a proxy would): connect,
`start` with a JWT, wait until an agent has accepted, send 5 messages each answered by the agent
over the agent socket (an agent's socket on another process where K > 1: the answer crosses
Redis), close. Every visitor message must reach its agent once and in order, every answer its
visitor once and in order. Prints starts/s, the start's time (connect to `started`), a
message's round trip (the visitor's text out to the agent's answer in) p50/p99, errors and lost
or repeated messages. The echo harness does the same socket work with the server echoing:
connect, a first frame and its echo, 5 messages and their echoes.

The driver is our own asyncio one: one event loop holds thousands of sockets on one core, and
the checks (each message once, in order, across two sockets and two processes) need the
visitor's and the agent's sides in one program, which Locust's per-user model does not give.

Run (PostgreSQL and Redis from .ci/services):
  eval "$(.ci/services start)"
  BENCH_DATABASE_URL=$DATABASE_URL BENCH_REDIS_URL=$REDIS_URL \\
      .venv/bin/python bench/bench_load.py --visitors 1000 --concurrency 200 --processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import _setup
import websockets
from _servers import COMMANDS, ECHO, PLATFORM, Servers, address, cpu_seconds
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from messaging.models import AGENTS_GROUP, ChannelInstance, Deployment
from workstreams.models import Queue, Workstream

SITE = "https://portal.example.com"
MESSAGES = 5
TIMEOUT = 30


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def make_setup(key_url: str, agents: int):
    """A fresh workstream, widget and deployment, and `agents` agents on its queue; returns
    the widget's id and the agents' session cookies."""
    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    workstream = Workstream.objects.create(name=f"Load {run}", channel_type=ChannelType.LIVE_CHAT)
    queue = Queue.objects.create(name="All", workstream=workstream)
    workstream.default_queue = queue
    workstream.save()
    setting = AuthenticationSetting.objects.create(
        name=f"Load {run}",
        channel_type=ChannelType.LIVE_CHAT,
        authentication_type=AuthenticationSetting.Type.OAUTH2_IMPLICIT,
        public_key_url=key_url,
        javascript_client_function="auth.getAuthenticationToken",
    )
    widget = ChannelInstance.objects.create(
        name=f"Load {run}",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=setting,
    )
    Deployment.objects.create(
        name="Load", channel_instance=widget, allowed_domains=["portal.example.com"]
    )
    group, _ = Group.objects.get_or_create(name=AGENTS_GROUP)
    cookies = []
    for number in range(agents):
        agent = get_user_model().objects.create_user(f"load-{run}-{number}", is_staff=True)
        agent.groups.add(group)
        queue.agents.add(agent)
        client = Client()
        client.force_login(agent)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return widget.widget_id, cookies


class Run:
    """What one harness run saw."""

    def __init__(self):
        self.starts: list[float] = []
        self.round_trips: list[float] = []
        self.errors: list[str] = []
        self.lost_or_repeated = 0
        self.accepted: dict[str, asyncio.Event] = {}
        # Each finished conversation's answers, as its visitor must have received them.
        self.answers: dict[str, list[str]] = {}
        self.seen_by_agents: dict[str, list[str]] = {}
        # When each visitor message reached its agent, and how long accepting took.
        self.reached: dict[str, float] = {}
        self.accepts: list[float] = []
        self.legs: list[float] = []
        self.server_cpu = 0.0
        # The whole machine's busy CPU and the driver's own (this process) over the same span.
        self.machine_cpu = 0.0
        self.driver_cpu = 0.0
        self.services_cpu: dict[str, float] = {}
        self.frames = 0  # frames the driver's sockets sent and received

    def count(self, frames: int = 1) -> None:
        self.frames += frames

    def event(self, conversation: str) -> asyncio.Event:
        return self.accepted.setdefault(conversation, asyncio.Event())


async def agent(run: Run, url: str, cookie: str, number: int, agents: int, stop: asyncio.Event):
    """An agent's console: accepts its share of waiting conversations, answers each visitor
    message with the same text prefixed `re:`."""
    async with websockets.connect(
        url,
        origin=url.replace("ws://", "http://").split("/ws/")[0],
        additional_headers={"Cookie": cookie},
        max_queue=None,
    ) as socket:

        async def read():
            async for raw in socket:
                run.count()
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "waiting":
                    conversation = frame["conversation"]["id"]
                    if uuid.UUID(conversation).int % agents == number:
                        run.count()
                        await socket.send(
                            json.dumps({"type": "accept", "conversation": conversation})
                        )
                elif kind == "accepted":
                    run.event(frame["conversation"]["id"]).set()
                elif kind == "message" and frame["sender"] == "visitor":
                    conversation = frame["conversation"]
                    run.seen_by_agents.setdefault(conversation, []).append(frame["text"])
                    run.reached[frame["text"]] = time.perf_counter()
                    run.count()
                    await socket.send(
                        json.dumps(
                            {
                                "type": "message",
                                "conversation": conversation,
                                "text": f"re:{frame['text']}",
                            }
                        )
                    )
                elif kind == "error":
                    run.errors.append(f"agent: {frame['code']}")

        reader = asyncio.create_task(read())
        await stop.wait()
        reader.cancel()


async def visitor(run: Run, url: str, token: str, number: int) -> None:
    began = time.perf_counter()
    async with websockets.connect(
        url, origin=SITE, max_queue=None, local_addr=address(number)
    ) as socket:
        await socket.send(json.dumps({"type": "start", "token": token}))
        started = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
        run.count(2)
        if started["type"] != "started":
            run.errors.append(f"start: {started.get('code')}")
            return
        run.starts.append(time.perf_counter() - began)
        conversation = started["conversation"]
        waited = time.perf_counter()
        await asyncio.wait_for(run.event(conversation).wait(), TIMEOUT)
        run.accepts.append(time.perf_counter() - waited)
        answers = []
        for index in range(MESSAGES):
            text = f"{number}-{index}"
            sent = time.perf_counter()
            await socket.send(json.dumps({"type": "message", "text": text}))
            run.count()
            while True:
                frame = json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))
                run.count()
                if frame["type"] == "error":
                    run.errors.append(f"visitor: {frame['code']}")
                if frame["type"] == "message" and frame["sender"] == "agent":
                    answers.append(frame["text"])
                    if frame["text"] == f"re:{text}":
                        break
            run.round_trips.append(time.perf_counter() - sent)
            run.legs.append(run.reached.get(text, sent) - sent)
        expected = [f"re:{number}-{index}" for index in range(MESSAGES)]
        if answers != expected:
            run.lost_or_repeated += 1
        run.answers[conversation] = expected  # what its agent must have seen, in order


async def echo_visitor(run: Run, url: str, number: int, messages: int) -> None:
    began = time.perf_counter()
    async with websockets.connect(
        url, origin=SITE, max_queue=None, local_addr=address(number)
    ) as socket:
        await socket.send(json.dumps({"type": "start"}))
        await asyncio.wait_for(socket.recv(), TIMEOUT)
        run.count(2)
        run.starts.append(time.perf_counter() - began)
        for index in range(messages):
            text = json.dumps({"type": "message", "text": f"{number}-{index}"})
            sent = time.perf_counter()
            await socket.send(text)
            run.count(2)
            if await asyncio.wait_for(socket.recv(), TIMEOUT) != text:
                run.lost_or_repeated += 1
            run.round_trips.append(time.perf_counter() - sent)


async def drive(visitors: int, concurrency: int, one) -> float:
    """Run `one(number)` for each visitor, `concurrency` at a time; the seconds it took."""
    limit = asyncio.Semaphore(concurrency)

    async def limited(number):
        async with limit:
            await one(number)

    began = time.perf_counter()
    results = await asyncio.gather(*(limited(n) for n in range(visitors)), return_exceptions=True)
    elapsed = time.perf_counter() - began
    return elapsed, [r for r in results if isinstance(r, BaseException)]


def machine_busy_seconds() -> float:
    """The CPU time every core of the machine has spent busy so far (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    idle, iowait = int(fields[3]), int(fields[4])
    return (sum(int(f) for f in fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


SERVICES = ("postgres", "redis-server")


def services_cpu_seconds() -> dict[str, float]:
    """The CPU time PostgreSQL's and Redis's processes have used so far, by program (those
    running now: the servers' database sessions last the run)."""
    totals = dict.fromkeys(SERVICES, 0.0)
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
        except OSError:  # ended meanwhile
            continue
        program = stat[stat.index("(") + 1 : stat.rindex(")")]
        if program in totals:
            totals[program] += cpu_seconds(stat)
    return totals


async def measured(run: Run, servers: Servers, work):
    """Await `work`, noting the CPU the servers, PostgreSQL, Redis, this driver and the whole
    machine spent."""
    services = services_cpu_seconds()
    before = servers.cpu_seconds(), machine_busy_seconds(), time.process_time()
    result = await work
    run.server_cpu = servers.cpu_seconds() - before[0]
    run.machine_cpu = machine_busy_seconds() - before[1]
    run.driver_cpu = time.process_time() - before[2]
    run.services_cpu = {
        program: spent - services[program] for program, spent in services_cpu_seconds().items()
    }
    return result


async def chat_run(args, widget_id, cookies, token) -> tuple[Run, float]:
    run = Run()
    servers = Servers(PLATFORM, args.processes, args.port, args.server)
    try:
        await servers.ready()
        stop = asyncio.Event()
        consoles = [
            asyncio.create_task(
                agent(
                    run,
                    f"ws://127.0.0.1:{servers.ports[(n + 1) % len(servers.ports)]}/ws/agent/",
                    cookie,
                    n,
                    len(cookies),
                    stop,
                )
            )
            for n, cookie in enumerate(cookies)
        ]
        await asyncio.sleep(1)  # the consoles are in their queue's group

        async def one(number):
            port = servers.ports[number % len(servers.ports)]
            await visitor(run, f"ws://127.0.0.1:{port}/ws/widget/{widget_id}/", token, number)

        await one(-1)  # warm up: the key fetch
        run.starts.clear()
        run.round_trips.clear()
        run.frames = 0
        elapsed, failures = await measured(
            run, servers, drive(args.visitors, args.concurrency, one)
        )
        run.errors += [f"{type(f).__name__}: {f}" for f in failures]
        await asyncio.sleep(0.5)
        for conversation, expected in run.answers.items():
            seen = run.seen_by_agents.get(conversation, [])
            if seen != [text.removeprefix("re:") for text in expected]:
                run.lost_or_repeated += 1
        stop.set()
        await asyncio.gather(*consoles, return_exceptions=True)
    finally:
        servers.stop()
    return run, elapsed


async def echo_run(args, messages: int) -> tuple[Run, float]:
    run = Run()
    servers = Servers(ECHO, args.processes, args.port + 100, args.server)
    try:
        await servers.ready()

        async def one(number):
            port = servers.ports[number % len(servers.ports)]
            await echo_visitor(run, f"ws://127.0.0.1:{port}/ws/echo/", number, messages)

        elapsed, failures = await measured(
            run, servers, drive(args.visitors, args.concurrency, one)
        )
        run.errors += [f"{type(f).__name__}: {f}" for f in failures]
    finally:
        servers.stop()
    return run, elapsed


def report(name: str, run: Run, elapsed: float, visitors: int) -> None:
    ms = 1000
    starts = (
        f"start p50 {percentile(run.starts, 0.5) * ms:6.1f} ms "
        f"p99 {percentile(run.starts, 0.99) * ms:6.1f} ms"
    )
    trips = (
        f"round trip p50 {percentile(run.round_trips, 0.5) * ms:6.1f} ms "
        f"p99 {percentile(run.round_trips, 0.99) * ms:6.1f} ms"
    )
    errors = len(run.errors) + visitors - len(run.starts)
    print(
        f"{name:5} {len(run.starts) / elapsed:7.1f} starts/s   {starts}   {trips}   "
        f"errors {errors}   lost or repeated {run.lost_or_repeated}   "
        f"server CPU {run.server_cpu / visitors * ms:5.1f} ms a visitor"
    )
    if run.legs:
        print(
            f"      visitor to agent p50 {percentile(run.legs, 0.5) * ms:6.1f} ms "
            f"p99 {percentile(run.legs, 0.99) * ms:6.1f} ms   waiting for an agent p50 "
            f"{percentile(run.accepts, 0.5) * ms:6.1f} ms "
            f"p99 {percentile(run.accepts, 0.99) * ms:6.1f} ms"
        )
    postgres, redis = (run.services_cpu.get(program, 0.0) for program in SERVICES)
    others = run.machine_cpu - run.server_cpu - run.driver_cpu - postgres - redis
    a_visitor = ms / visitors
    print(
        f"      CPU a visitor: machine {run.machine_cpu * a_visitor:5.1f} ms = servers "
        f"{run.server_cpu * a_visitor:5.1f} + driver {run.driver_cpu * a_visitor:5.1f} "
        f"+ PostgreSQL {postgres * a_visitor:4.1f} + Redis {redis * a_visitor:4.1f} "
        f"+ the rest (the kernel's, other programs') {others * a_visitor:4.1f}; "
        f"{run.frames / visitors:4.1f} frames a visitor, "
        f"servers {run.server_cpu / max(run.frames, 1) * ms * 1000:5.0f} µs a frame"
    )
    for error in sorted(set(run.errors))[:5]:
        print(f"           {run.errors.count(error)} x {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--server", choices=sorted(COMMANDS), default="daphne")
    args = parser.parse_args()
    if not os.environ.get("BENCH_DATABASE_URL") or not os.environ.get("BENCH_REDIS_URL"):
        sys.exit('Set BENCH_DATABASE_URL and BENCH_REDIS_URL (eval "$(.ci/services start)").')
    key = _setup.new_key()
    key_server = _setup.KeyServer(_setup.public_pem(key))
    widget_id, cookies = make_setup(key_server.url, args.agents)
    token = _setup.token(key)
    try:
        echo, echo_elapsed = asyncio.run(echo_run(args, MESSAGES))
        chat, chat_elapsed = asyncio.run(chat_run(args, widget_id, cookies, token))
        # The echo again, with as many frames a visitor as the chat's sockets carried.
        matched_messages = max(MESSAGES, round((chat.frames / args.visitors - 2) / 2))
        matched, matched_elapsed = asyncio.run(echo_run(args, matched_messages))
    finally:
        key_server.stop()
    print(
        f"{args.visitors} visitors, {args.concurrency} at a time, {args.processes} processes, "
        f"{args.agents} agents, {MESSAGES} messages each, on {args.server}"
    )
    report("echo", echo, echo_elapsed, args.visitors)
    report("chat", chat, chat_elapsed, args.visitors)
    print(f"echo with {matched_messages} messages a visitor, as many frames as the chat's:")
    report("echo", matched, matched_elapsed, args.visitors)


if __name__ == "__main__":
    main()
