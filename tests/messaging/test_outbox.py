"""The outbox: events told from a socket's database thread leave in the order told, however
many wait at once; and when the event loop that sent them has stopped, as a server's does when
it is told to end while its database thread is still at work, they are sent all the same."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
import redis.asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from messaging.outbox import Outbox, send_all

GROUP = "outbox-test"
# Fewer than a channel of the in-memory layer holds (100): it drops what comes past that.
EVENTS = 90


@pytest.mark.integration
async def test_a_burst_of_events_told_from_a_thread_reaches_each_group_once_and_in_order():
    layer = get_channel_layer()
    outbox = Outbox()
    outbox.attach()
    groups = [f"{GROUP}-a", f"{GROUP}-b"]
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)

    def database_work() -> None:  # many events while the loop is busy: they wait together
        for number in range(EVENTS):
            outbox.put(groups[0 if number % 3 else 1], {"type": "test.event", "number": number})

    try:
        await sync_to_async(database_work, thread_sensitive=False)()
        heard = [
            (await asyncio.wait_for(layer.receive(channel), timeout=5))["number"]
            for _ in range(EVENTS)
        ]
        assert heard == list(range(EVENTS))
        with pytest.raises(asyncio.TimeoutError):  # nothing twice
            await asyncio.wait_for(layer.receive(channel), timeout=0.3)
    finally:
        outbox.sender.cancel()
        await asyncio.gather(outbox.sender, return_exceptions=True)
        for group in groups:
            await layer.group_discard(group, channel)


@pytest.mark.integration
@pytest.mark.redis
async def test_events_sent_together_keep_each_groups_order_and_a_shard_away_loses_only_its_own(
    caplog,
):
    # Two shards: the test's Redis, and an address where nothing listens.
    layer = RedisPubSubChannelLayer(hosts=[settings.REDIS_URL, "redis://127.0.0.1:1/0"])
    loop_layer = layer._get_layer()
    present, away = loop_layer._shards

    def groups_on(shard, count):
        names = (f"{GROUP}-{number}" for number in range(1000))
        on_shard = (
            name
            for name in names
            if loop_layer._get_shard(loop_layer._get_group_channel_name(name)) is shard
        )
        return [next(on_shard) for _ in range(count)]

    first, second = groups_on(present, 2)
    (lost,) = groups_on(away, 1)
    listener = redis.asyncio.from_url(settings.REDIS_URL)
    subscription = listener.pubsub()
    await subscription.subscribe(*(loop_layer._get_group_channel_name(g) for g in (first, second)))
    # Runs of one shard, then the other, then the first again.
    told = [first, second, lost, lost, first, second, first]
    events = [(group, {"type": "test.event", "number": n}) for n, group in enumerate(told)]
    try:
        with caplog.at_level(logging.ERROR, logger="messaging.outbox"):
            await send_all(layer, events)
        heard: dict[str, list[int]] = {first: [], second: []}
        deadline = asyncio.get_running_loop().time() + 5
        while sum(map(len, heard.values())) < 5:
            assert asyncio.get_running_loop().time() < deadline, heard
            # None for a subscription's confirmation, or nothing within the second.
            message = await subscription.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is None:
                continue
            group = message["channel"].decode().removeprefix(loop_layer._get_group_channel_name(""))
            heard[group].append(layer.deserialize(message["data"])["number"])
        assert heard == {first: [0, 4, 6], second: [1, 5]}
        assert "Could not send 2 event(s), the first a test.event event to" in caplog.text
    finally:
        await subscription.aclose()
        await listener.aclose()
        await layer.flush()


def test_an_event_told_after_the_event_loop_stopped_is_sent_and_the_thread_goes_on():
    layer = get_channel_layer()
    outbox = Outbox()
    loop = asyncio.new_event_loop()
    at_work, loop_stopped, told = threading.Event(), threading.Event(), threading.Event()

    def database_work() -> None:  # on a worker thread of the loop, as a socket's work is
        at_work.set()
        loop_stopped.wait(timeout=10)
        outbox.put(GROUP, {"type": "test.event"})
        told.set()

    async def serve() -> str:
        outbox.attach()
        channel = await layer.new_channel()
        await layer.group_add(GROUP, channel)
        return channel

    channel = loop.run_until_complete(serve())
    work = loop.create_task(sync_to_async(database_work, thread_sensitive=False)())
    server = threading.Thread(target=loop.run_forever)
    server.start()
    assert at_work.wait(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    server.join(timeout=10)
    loop_stopped.set()
    try:
        assert told.wait(timeout=10)
        event = loop.run_until_complete(asyncio.wait_for(layer.receive(channel), timeout=5))
        assert event == {"type": "test.event"}
    finally:
        outbox.sender.cancel()
        loop.run_until_complete(asyncio.gather(work, outbox.sender, return_exceptions=True))
        loop.run_until_complete(layer.group_discard(GROUP, channel))
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
