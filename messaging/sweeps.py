"""Work that falls due with time: Apple deliveries (and their retries) and lapsed sign-ins.

Each server process runs one sweep loop, started by the first request or socket it serves and
ticking every second (sooner when nudged, as right after an agent posts). Why this and not a
timer or a cron command:
- A timer per conversation lives in one process: when that process restarts or dies the
  timer is gone, and the other processes do not know of it. The sweep reads what is due from
  the database, so any process does any row's work, and nothing is lost with a process.
- A cron command runs once a minute at best and needs a scheduler beside the servers; agents
  must hear of a lapsed sign-in within 5 seconds, and a message should leave at once.
- Every process sweeping the same rows would repeat the work, so each row is claimed first:
  a compare-and-set UPDATE on the value that made it due (and, on PostgreSQL, rows another
  process holds locked are skipped), so whatever the number of processes, one does it, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils import timezone

from messaging import actions
from messaging.apple import deliveries
from messaging.outbox import outbox

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0


def sweep(now: datetime) -> None:
    """Do everything due at `now`: deliveries, then lapsed sign-ins."""
    deliveries.deliver_due(now=now)
    actions.do_announce_lapsed_sign_ins(now=now)


class Sweeper:
    """This process's sweep loop, on the event loop that serves its requests; `clock` tells
    the time."""

    def __init__(self, clock: Callable[[], datetime] = timezone.now) -> None:
        self.clock = clock
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None

    def start(self) -> None:
        """Run on the current event loop, unless already running there."""
        loop = asyncio.get_running_loop()
        if self.task is not None and not self.task.done() and self.loop is loop:
            return
        self.loop, self.wake = loop, asyncio.Event()
        self.task = loop.create_task(self.run())

    def nudge(self) -> None:
        """Sweep now rather than at the next tick; safe from any thread."""
        loop, wake = self.loop, self.wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), TICK_SECONDS)
            self.wake.clear()
            try:
                # Off the consumers' database thread: a delivery may wait on Apple's gateway.
                await sync_to_async(self.sweep_once, thread_sensitive=False)()
            except Exception:  # the database may be away a while: try again next tick
                logger.exception("The sweep failed; trying again.")

    def sweep_once(self) -> None:
        close_old_connections()
        try:
            sweep(self.clock())
        finally:
            close_old_connections()


sweeper = Sweeper()


def nudge() -> None:
    sweeper.nudge()


class StartSweeps:
    """ASGI middleware: the process's sweep loop starts with the first request or socket, and
    the events they tell leave from its event loop (messaging.outbox)."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            sweeper.start()
            outbox.attach()
        return await self.application(scope, receive, send)
