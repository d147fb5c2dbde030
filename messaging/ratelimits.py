"""Rate limits for the widget: starts per client address (shared through the cache, so every
process counts together) and messages per socket (a token bucket in the consumer)."""

from __future__ import annotations

import time

from django.core.cache import cache

WINDOW_SECONDS = 60


def allow_start(client_address: str, per_minute: int, *, now: float | None = None) -> bool:
    """Count a start from an address in the current minute; False once over the limit."""
    if per_minute <= 0:
        return True
    window = int((now or time.time()) // WINDOW_SECONDS)
    key = f"widget-starts:{client_address}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= per_minute


class TokenBucket:
    """`rate` tokens a second, holding at most `burst`; `rate` 0 turns the limit off."""

    def __init__(self, rate: float, burst: int, *, clock=time.monotonic):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.clock = clock
        self.updated = clock()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
