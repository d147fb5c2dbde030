"""The shared cache on Redis keeps one redis-py client per connection pool (Django's backend
builds one for every call), which all of a process's threads share: every thread's reads and
writes land, none lost or mixed up with another's."""

from __future__ import annotations

import threading
import uuid

import pytest

from contactcenter.lib.shared_cache import KeptClientRedisCache, cache

pytestmark = [pytest.mark.integration, pytest.mark.redis]

THREADS = 8
ROUNDS = 200


def test_threads_sharing_the_cache_client_each_read_back_what_they_wrote():
    assert isinstance(cache, KeptClientRedisCache)
    run = uuid.uuid4().hex
    counter = f"test-kept-client:{run}:count"
    cache.set(counter, 0, timeout=60)
    mixed_up: list[tuple[int, int]] = []

    def work(number: int) -> None:
        own = f"test-kept-client:{run}:{number}"
        for round_number in range(ROUNDS):
            cache.incr(counter)
            cache.set(own, {"thread": number, "round": round_number}, timeout=60)
            if cache.get(own) != {"thread": number, "round": round_number}:
                mixed_up.append((number, round_number))

    threads = [threading.Thread(target=work, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert mixed_up == []
    assert cache.get(counter) == THREADS * ROUNDS
    assert cache._cache.get_client() is cache._cache.get_client()
