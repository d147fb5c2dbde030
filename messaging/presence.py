"""Which waiting chats still have their visitor: each process vouches for the visitors whose
sockets it holds, and every process closes the chats nobody has vouched for in a while."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils import timezone

from messaging import actions, ratelimits
from messaging.models import Conversation

logger = logging.getLogger(__name__)

PRESENCE_SECONDS = 60
# Visitors who left are written down together, at most this long after they left: one write a
# second for the whole process, not one for each socket that closes.
LEFT_SECONDS = 1.0


class Presence:
    """The conversations whose visitor has a socket open in this process.

    Every PRESENCE_SECONDS the process vouches for them in the database, then closes the
    waiting chats that no process has vouched for in ABANDONED_AFTER: every process sweeps,
    and row locks keep two from closing one conversation. A process that dies stops vouching,
    so its visitors' chats are abandoned in time as well.
    """

    def __init__(self) -> None:
        self.open: Counter = Counter()
        self.ticker: asyncio.Task | None = None
        self.left: set = set()
        self.left_writer: asyncio.Task | None = None

    async def enter(self, conversation: Conversation) -> None:
        """The visitor's socket joined: vouch for the chat now, unless it was vouched for in
        the last PRESENCE_SECONDS (a chat just started was): the next tick vouches for it
        again, well within ABANDONED_AFTER."""
        self.open[conversation.pk] += 1
        now = timezone.now()
        seen = conversation.visitor_seen_at
        if seen is None or now - seen >= timedelta(seconds=PRESENCE_SECONDS):
            await mark_present([conversation.pk], now)
        self.keep_ticking()

    def leave(self, conversation_id) -> None:
        """The visitor's socket closed: the clock of an abandoned chat starts now, or within
        LEFT_SECONDS, when the process writes down the visitors who left. (Should the process
        stop first, the clock started at the last vouch, at most PRESENCE_SECONDS earlier.)"""
        self.open[conversation_id] -= 1
        if self.open[conversation_id] <= 0:
            del self.open[conversation_id]
        self.left.add(conversation_id)
        self.write_left_soon()

    def write_left_soon(self) -> None:
        """Have the visitors who left written down within LEFT_SECONDS, by one task per loop."""
        loop = asyncio.get_running_loop()
        writer = self.left_writer
        if writer is None or writer.done() or writer.get_loop() is not loop:
            self.left_writer = loop.create_task(self.keep_writing_left())

    async def keep_writing_left(self) -> None:
        """Every LEFT_SECONDS, write down the visitors who left, until none is left to."""
        while self.left:
            await asyncio.sleep(LEFT_SECONDS)
            await self.write_left()

    async def write_left(self) -> None:
        """Write down the visitors who left so far as seen now. Those a failed write could not
        are written with the next."""
        left, self.left = self.left, set()
        if not left:
            return
        try:
            await mark_present(list(left), timezone.now())
        except Exception:  # the database may be away a while
            self.left |= left
            self.write_left_soon()
            logger.exception("Could not write down the visitors who left.")

    def keep_ticking(self) -> None:
        """Tick on this event loop from its first socket on."""
        loop = asyncio.get_running_loop()
        if self.ticker is None or self.ticker.done() or self.ticker.get_loop() is not loop:
            self.ticker = loop.create_task(self.tick_forever())

    async def tick_forever(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_SECONDS)
            try:
                await self.tick(timezone.now())
            except Exception:  # the database may be away a while: try again next time
                logger.exception("Could not vouch for visitors or close abandoned chats.")

    async def tick(self, now: datetime) -> int:
        """Vouch for this process's visitors as of `now` (their chats, and their addresses'
        socket counts), then close the chats abandoned by then; returns how many were
        closed. The visitors who left are written down first."""
        await self.write_left()
        await mark_present(list(self.open), now)
        await sync_to_async(ratelimits.keep_socket_counts, thread_sensitive=False)()
        # A batch at a time: the sockets' database work, on the same thread, goes on between
        # batches, however many chats a crashed process left to close.
        close_batch = database_sync_to_async(actions.do_close_abandoned_batch)
        closed = 0
        while (batch := await close_batch(now=now)) == actions.SWEEP_BATCH:
            closed += batch
        return closed + batch


presence = Presence()


@database_sync_to_async
def mark_present(conversation_ids: list, now: datetime) -> None:
    Conversation.objects.filter(pk__in=conversation_ids).exclude(
        status=Conversation.Status.CLOSED
    ).update(visitor_seen_at=now)
