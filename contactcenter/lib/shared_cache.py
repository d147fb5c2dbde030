"""The process's one client of the shared cache, and the shared counters kept in it.

Django keeps a cache object per thread and per async context, so every socket (a task of its
own) would build its own client and, on Redis, its own connection pool: ten thousand sockets
would hold ten thousand Redis connections. The platform asks the shared cache through this
one client instead; Django's Redis and local-memory backends are safe to share across threads.
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

cache = SimpleLazyObject(lambda: caches.create_connection("default"))


@receiver(setting_changed)
def follow_caches_setting(*, setting: str, **kwargs) -> None:
    """A changed CACHES setting gets a new client, as Django's own cache objects do."""
    if setting == "CACHES":
        cache._wrapped = empty


# Shared counters. On Redis each is one round trip (a script runs at once, so the steps cannot
# interleave with another process's); elsewhere (the local-memory cache of one process) the
# cache's own add, incr and touch do the same.

COUNT_UP_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
if ARGV[2] == '1' then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
COUNT_DOWN_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end
return false
"""


def count_up(key: str, timeout: int, *, renew: bool = False) -> int:
    """Add one to a shared counter that starts at zero and lives `timeout` seconds from its
    first count (from this count, with `renew`); returns the new count."""
    if isinstance(cache, RedisCache):
        script = _redis_script(COUNT_UP_SCRIPT)
        return script(keys=[cache.make_and_validate_key(key)], args=[timeout, int(renew)])
    cache.add(key, 0, timeout=timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, count := 1, timeout=timeout)
    if renew:
        cache.touch(key, timeout)
    return count


def count_down(key: str) -> int | None:
    """Take one from a shared counter; None, and nothing counted, when it has expired."""
    if isinstance(cache, RedisCache):
        return _redis_script(COUNT_DOWN_SCRIPT)(keys=[cache.make_and_validate_key(key)])
    try:
        return cache.decr(key)
    except ValueError:
        return None


def keep_counters(counts: dict[str, int], timeout: int) -> None:
    """Renew each counter for `timeout` seconds, bringing back at `counts[key]` one that has
    expired. On Redis all of them in one round trip (a pipeline), however many there are."""
    if isinstance(cache, RedisCache):
        pipeline = cache._cache.get_client(write=True).pipeline(transaction=False)
        for key, count in counts.items():
            stored_key = cache.make_and_validate_key(key)
            pipeline.set(stored_key, count, ex=timeout, nx=True)
            pipeline.expire(stored_key, timeout)
        pipeline.execute()
        return
    for key, count in counts.items():
        if not cache.add(key, count, timeout=timeout):
            cache.touch(key, timeout)


def _redis_script(source: str):
    """The Lua script on the shared cache's Redis (sent by its SHA1 after the first call)."""
    return cache._cache.get_client(write=True).register_script(source)
