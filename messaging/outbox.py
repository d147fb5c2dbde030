"""The process's outbox: channel-layer events, sent in the order they were told, without holding
the thread that told them.

Every socket's database work runs on a thread beside the event loop. Sending an event from
there means waiting for the event loop and for the channel layer (a Redis round trip with
Redis), while every other socket's database work waits too. So an event told once its
transaction commits goes into one queue per process instead, which one task on the event loop
that serves the sockets sends on, in order: two events of a conversation leave in the order
they were told, whichever thread told them (a message from a socket's work, then its delivery
status from the sweep). The events waiting when it sends leave together, up to BATCH: on the
Redis Pub/Sub layer, each run of them whose groups share a shard as one pipeline of PUBLISH
commands, one round trip however many (a loaded process's outbox holds several at a time).
That reads into the layer as channels-redis 4.3 is written (its per-event-loop layer's shards,
each PUBLISH under the shard's lock), as requirements.txt pins it. A group's events keep their
order; events of groups on different shards (several Redis hosts) may reach listeners in
either order, as they may with one PUBLISH each. Where no event loop serves the process (a
management command, a plain test client, the admin on WSGI), the event is sent at once, as it
is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer

logger = logging.getLogger(__name__)

# The most events sent together: what one failed send can lose.
BATCH = 100


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
            while len(events) < BATCH and not queue.empty():
                events.append(queue.get_nowait())
            await send_all(get_channel_layer(), events)


async def send_all(layer, events: list[tuple[str, dict]]) -> None:
    """Send each (group, event) in order; on the Redis Pub/Sub layer, each run of events
    whose groups live on the same shard as one pipeline of PUBLISH commands (one round trip),
    elsewhere one by one. A send that fails is logged, and the next ones are tried: the layer
    may be away a while."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        for group, event in events:
            with logged_if_failed([(group, event)]):
                await layer.group_send(group, event)
        return
    loop_layer = layer._get_layer()
    # Each event with its group's channel in Redis, named once.
    named = [(loop_layer._get_group_channel_name(group), group, event) for group, event in events]
    for shard, same_shard in itertools.groupby(
        named, key=lambda item: loop_layer._get_shard(item[0])
    ):
        run = list(same_shard)
        with logged_if_failed([(group, event) for _, group, event in run]):
            async with shard._lock:
                shard._ensure_redis()
                pipeline = shard._redis.pipeline(transaction=False)
                for channel, _, event in run:
                    pipeline.publish(channel, layer.serialize(event))
                await pipeline.execute()


@contextlib.contextmanager
def logged_if_failed(events: list[tuple[str, dict]]):
    try:
        yield
    except Exception:
        group, event = events[0]
        logger.exception(
            "Could not send %s event(s), the first a %s event to %s.",
            len(events),
            event.get("type"),
            group,
        )


outbox = Outbox()
# A process forked from a serving one starts with no loop of its own yet.
os.register_at_fork(after_in_child=outbox.__init__)
