"""The process's one client of the shared cache, the Redis backend it uses, and the shared
counters kept in it.

Django keeps a cache object per thread and per async context, so every socket (a task of its
own) would build its own client and, on Redis, its own connection pool: ten thousand sockets
would hold ten thousand Redis connections. The platform asks the shared cache through this
one client instead; Django's Redis and local-memory backends are safe to share across threads.
"""

from __future__ import annotations

import functools

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty
from redis import Redis
from redis.commands.core import Script

cache = SimpleLazyObject(lambda: caches.create_connection("default"))


class KeptClientRedisCache(RedisCache):
    """Django's Redis cache (settings.CACHES), which builds a redis-py client for each call, a
    tenth of a millisecond every time; this one keeps one client per connection pool (redis-py
    clients are safe to share across threads)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptRedisCacheClient


class KeptRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one redis-py client kept for each of its connection
    pools (which it keeps for good)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Redis] = {}

    def get_client(self, key=None, *, write: bool = False) -> Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:  # two threads may both build one at first: either will do
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


@receiver(setting_changed)
def follow_caches_setting(*, setting: str, **kwargs) -> None:
    """A changed CACHES setting gets a new client, as Django's own cache objects do."""
    if setting == "CACHES":
        cache._wrapped = empty


# Shared counters. On Redis each is one round trip (a script runs at once, so the steps cannot
# interleave with another process's); elsewhere (the local-memory cache of one process) the
# cache's own add, incr, decr and touch do the same.

COUNT_UP_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
local limit = tonumber(ARGV[3])
if limit > 0 and count > limit then
    redis.call('DECR', KEYS[1])
elseif ARGV[2] == '1' then
    redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""
COUNT_DOWN_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return false
"""


def count_up(key: str, timeout: int, *, renew: bool = False, limit: int = 0) -> int:
    """Add one to a shared counter that starts at zero and lives `timeout` seconds from its
    first count (from this count, with `renew`); returns the new count. With a `limit`, a
    count past it is taken back at once and renews nothing: the number returned is then over
    the limit, and the counter is as it was."""
    if isinstance(cache, RedisCache):
        return _run_script(COUNT_UP_SCRIPT, key, timeout, int(renew), limit)
    cache.add(key, 0, timeout=timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, count := 1, timeout=timeout)
    if 0 < limit < count:
        count_down(key)
    elif renew:
        cache.touch(key, timeout)
    return count


def count_down(key: str) -> int | None:
    """Take one from a shared counter; None, and nothing counted, when it has expired."""
    if isinstance(cache, RedisCache):
        return _run_script(COUNT_DOWN_SCRIPT, key)
    try:
        return cache.decr(key)
    except ValueError:
        return None


def keep_counters(counts: dict[str, int], timeout: int) -> None:
    """Renew each counter for `timeout` seconds, bringing back at `counts[key]` one that has
    expired. On Redis all of them in one round trip (a pipeline), however many there are."""
    if isinstance(cache, RedisCache):
        pipeline = _redis_client().pipeline(transaction=False)
        for key, count in counts.items():
            stored_key = cache.make_and_validate_key(key)
            pipeline.set(stored_key, count, ex=timeout, nx=True)
            pipeline.expire(stored_key, timeout)
        pipeline.execute()
        return
    for key, count in counts.items():
        if not cache.add(key, count, timeout=timeout):
            cache.touch(key, timeout)


def _run_script(source: str, key: str, *args) -> int | None:
    """Run a Lua script on the shared cache's Redis, on the key as the cache stores it."""
    return _script(source)(
        keys=[cache.make_and_validate_key(key)], args=args, client=_redis_client()
    )


@functools.cache
def _script(source: str) -> Script:
    """The script, sent by its SHA1 after its first run (bound to no client: each run names
    the client, which changes with the CACHES setting)."""
    return Script(None, source.encode())


def _redis_client() -> Redis:
    """A client of the shared cache's Redis (Django's Redis cache keeps its connection pool)."""
    return cache._cache.get_client(write=True)
