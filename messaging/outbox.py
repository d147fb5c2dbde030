"""The process's outbox: channel-layer events, sent in the order they were told, without holding
the thread that told them.

Every socket's database work runs on a thread beside the event loop. Sending an event from
there means waiting for the event loop and for the channel layer (a Redis round trip with
Redis), while every other socket's database work waits too. So an event told once its
transaction commits goes into one queue per process instead, which one task on the event loop
that serves the sockets sends on, in order: two events of a conversation leave in the order
they were told, whichever thread told them (a message from a socket's work, then its delivery
status from the sweep). The events waiting when it sends leave together: on the Redis Pub/Sub
layer, one pipeline of PUBLISH commands, one round trip however many (under load a loaded
process's outbox holds several at a time), read from the layer as channels-redis 4.3 is
written (its per-event-loop layer's shards, each PUBLISH under the shard's lock), as
requirements.txt pins it. Where no event loop serves the process (a management command, a
plain test client, the admin on WSGI), the event is sent at once, as it is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

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
            events = [await queue.get()]
            while not queue.empty():
                events.append(queue.get_nowait())
            try:
                await send_all(get_channel_layer(), events)
            except Exception:  # the layer may be away a while: the next events may pass
                logger.exception(
                    "Could not send %s event(s), the first a %s event to %s.",
                    len(events),
                    events[0][1].get("type"),
                    events[0][0],
                )


async def send_all(layer, events: list[tuple[str, dict]]) -> None:
    """Send each (group, event), in order; on the Redis Pub/Sub layer as one pipeline of
    PUBLISH commands per shard (one round trip), elsewhere one by one."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        for group, event in events:
            await layer.group_send(group, event)
        return
    loop_layer = layer._get_layer()
    by_shard: dict[object, list[tuple[str, bytes]]] = {}
    for group, event in events:
        channel = loop_layer._get_group_channel_name(group)
        by_shard.setdefault(loop_layer._get_shard(channel), []).append(
            (channel, layer.serialize(event))
        )
    for shard, messages in by_shard.items():
        async with shard._lock:
            shard._ensure_redis()
            pipeline = shard._redis.pipeline(transaction=False)
            for channel, message in messages:
                pipeline.publish(channel, message)
            await pipeline.execute()


outbox = Outbox()
# A process forked from a serving one starts with no loop of its own yet.
os.register_at_fork(after_in_child=outbox.__init__)
