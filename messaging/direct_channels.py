"""A socket's events from the channel layer, put straight into the queue of what its server
hands it, so that one loop reads both.

Channels gives each consumer a channel of its own, which channels_redis' Pub/Sub layer backs
with a queue of its own and a Redis subscription; the consumer then keeps two tasks waiting,
one on the server's queue and one on the channel's, and a wait over both that it builds anew
for each message. An idle chat socket holds all of that: about 8 KiB of its memory
(bench/bench_idle_sockets.py), a subscription in Redis, and a SUBSCRIBE and an UNSUBSCRIBE
for each socket opened. Our sockets hear only groups (a conversation, a queue), which the layer
hands to the channels of the process that joined them; nothing ever sends to a socket's own
channel. So its channel here is a name the layer knows in this process only, whose messages
go, decoded, into the server's queue, and the socket reads that queue alone.

This needs the Redis Pub/Sub layer and a server whose `receive` is an asyncio queue's `get`
(daphne; Channels' test communicators): elsewhere (the in-memory layer, uvicorn)
`open_channel` gives None, and the socket runs as Channels runs it. It reads into the layer as
channels-redis 4.3 is written (its per-event-loop layer, whose `channels` map a name to what
`put_nowait` takes the raw message), as requirements.txt pins it;
tests/messaging/test_direct_channels.py and tests/integration/test_redis_connections.py fail
should that change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from channels_redis.pubsub import RedisPubSubChannelLayer

logger = logging.getLogger(__name__)


class ServerQueueChannel:
    """Stands for a channel's queue in the layer: decodes what the layer puts and hands it
    to the server's queue of the socket."""

    __slots__ = ("decode", "queue")

    def __init__(self, queue: asyncio.Queue, decode: Callable[[bytes], dict]) -> None:
        self.queue = queue
        self.decode = decode

    def put_nowait(self, data: bytes) -> None:
        try:
            message = self.decode(data)
        except Exception:  # the layer's receiving stops a second on an error: drop this one
            logger.exception("A channel-layer message could not be decoded; dropped.")
            return
        self.queue.put_nowait(message)


def open_channel(layer: object, receive: Callable) -> str | None:
    """A channel of this process whose messages go into the queue that `receive` reads, and its
    name; None where the layer or the server is not the kind this works with."""
    queue = getattr(receive, "__self__", None)
    if not isinstance(layer, RedisPubSubChannelLayer) or not isinstance(queue, asyncio.Queue):
        return None
    loop_layer = layer._get_layer()
    name = f"{loop_layer.prefix}specific.{uuid.uuid4().hex}"
    loop_layer.channels[name] = ServerQueueChannel(queue, layer.deserialize)
    return name


def close_channel(layer: RedisPubSubChannelLayer, name: str) -> None:
    """Forget the channel `open_channel` gave: its socket has ended."""
    layer._get_layer().channels.pop(name, None)
