"""The process's outbox: channel-layer events, sent in the order they were told, without holding
the thread that told them.

Every socket's database work runs on a thread beside the event loop. Sending an event from
there means waiting for the event loop and for the channel layer (a Redis round trip with
Redis), while every other socket's database work waits too. So an event told once its
transaction commits goes into one queue per process instead, which one task on the event loop
that serves the sockets sends on, in order: two events of a conversation leave in the order
they were told, whichever thread told them (a message from a socket's work, then its delivery
status from the sweep). Where no event loop serves the process (a management command, a
plain test client, the admin on WSGI), the event is sent at once, as it is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


class Outbox:
    """Events waiting for this process's event loop to send them."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue | None = None
        self.sender: asyncio.Task | None = None

    def attach(self) -> None:
        """Send from the current event loop from now on, unless already sending there."""
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.sender is not None and not self.sender.done():
            return
        self.queue = asyncio.Queue()
        self.sender = loop.create_task(self.send_in_order(self.queue))
        self.loop = loop

    def put(self, group: str, event: dict) -> None:
        """Send `event` to `group` after every event put before it; safe from any thread."""
        loop = self.loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):  # closed since: sent at once below
                loop.call_soon_threadsafe(self.queue.put_nowait, (group, event))
                return
        # Sent at once, this thread waiting. Where the loop that served the process has stopped
        # but is not closed yet (the process is ending), on a new event loop: asgiref would
        # hand the send to the stopped loop, and the thread, and the process's exit, would wait
        # forever. (Events still queued for the stopped loop are not sent.)
        stopping = loop is not None and not loop.is_closed()
        async_to_sync(get_channel_layer().group_send, force_new_loop=stopping)(group, event)

    async def send_in_order(self, queue: asyncio.Queue) -> None:
        while True:
            group, event = await queue.get()
            try:
                await get_channel_layer().group_send(group, event)
            except Exception:  # the layer may be away a while: the next event may pass
                logger.exception("Could not send a %s event to %s.", event.get("type"), group)


outbox = Outbox()
# A process forked from a serving one starts with no loop of its own yet.
os.register_at_fork(after_in_child=outbox.__init__)
