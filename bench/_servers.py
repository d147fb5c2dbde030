"""Server processes for the benchmarks that need them: the platform or a bare echo consumer on
loopback ports, started from the server's command line as production starts it, with the
database and channel layer `_setup` chose (its DATABASE_URL and REDIS_URL, inherited)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import _setup  # noqa: F401  (Django, and the database and channel layer, first)
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

from contactcenter.lib.shared_cache import cache

BENCH = Path(__file__).resolve().parent
PLATFORM = "contactcenter.asgi:application"
ECHO = "_servers:echo_application"

COMMANDS = {
    "daphne": lambda port, app: [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app,
    ],
    # Neither uvloop nor uvicorn is installed by requirements.txt: `pip install
    # 'uvicorn[standard]'` brings both, to compare.
    "daphne-uvloop": lambda port, app: [
        sys.executable, "-c",
        "import asyncio, uvloop; asyncio.set_event_loop_policy(uvloop.EventLoopPolicy()); "
        "from daphne.cli import CommandLineInterface; CommandLineInterface.entrypoint()",
        "-b", "127.0.0.1", "-p", str(port), app,
    ],
    "uvicorn": lambda port, app: [
        sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning", app,
    ],
}  # fmt: skip


class EchoConsumer(AsyncWebsocketConsumer):
    """The baseline: accept, and send back what arrives."""

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)


echo_application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/echo/", EchoConsumer.as_asgi())])}
)


def cpu_seconds(stat: str) -> float:
    """The CPU time (user and system) a process has used so far, from its /proc/<pid>/stat."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def address(number: int) -> tuple[str, int]:
    """A loopback address of the client's own (127.0.1.1 and up, never 127.0.0.1): the
    platform limits sockets and starts per address."""
    number = abs(number)
    return (f"127.0.{1 + number // 250 % 250}.{1 + number % 250}", 0)


class Servers:
    """`count` server processes serving `application` on loopback ports from `first_port`, with
    no start or message limits."""

    def __init__(self, application: str, count: int, first_port: int, server: str = "daphne"):
        # Socket counts per client address that earlier, stopped servers left in the shared
        # cache (they expire after ten minutes) would refuse these servers' first clients.
        cache.clear()
        self.ports = [first_port + i for i in range(count)]
        environment = {
            **os.environ,
            "CC_WIDGET_STARTS_PER_MINUTE": "0",
            "CC_WIDGET_MESSAGES_PER_SECOND": "0",
            "CC_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
            "CC_SECURE_TRANSPORT": "false",
            "PYTHONPATH": f"{BENCH}:{BENCH.parent}",
        }
        self.processes = [
            subprocess.Popen(  # noqa: S603  (our own command line)
                COMMANDS[server](port, application),
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for port in self.ports
        ]

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        for port, process in zip(self.ports, self.processes, strict=True):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"no server on port {port}") from None
                    await asyncio.sleep(0.2)

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) the server processes have used so far."""
        return sum(
            cpu_seconds(Path(f"/proc/{process.pid}/stat").read_text()) for process in self.processes
        )

    def resident_kib(self) -> int:
        """The first process's resident set size (VmRSS), in KiB."""
        status = Path(f"/proc/{self.processes[0].pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=20)
