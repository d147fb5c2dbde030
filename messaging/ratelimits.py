"""Rate limits for the widget: starts per client address and open sockets per client address
(both shared through the cache, so every process counts together), and messages per socket (a
token bucket in the consumer)."""

from __future__ import annotations

import time
from collections import Counter

from contactcenter.lib.shared_cache import count_down, count_up, keep_counters

WINDOW_SECONDS = 60
MAX_SOCKETS_PER_ADDRESS = 20
# A socket count lives this long unless a process holding sockets of its address renews it
# (keep_socket_counts): the safety net that forgets sockets a crashed process never closed.
SOCKET_COUNT_SECONDS = 600

# The sockets this process holds, by address, which it renews the shared counts of.
open_here: Counter[str] = Counter()


def allow_start(client_address: str, per_minute: int, *, now: float | None = None) -> bool:
    """Count a start from an address in the current minute; False once over the limit."""
    if per_minute <= 0:
        return True
    window = int((now or time.time()) // WINDOW_SECONDS)
    return count_up(f"widget-starts:{client_address}:{window}", WINDOW_SECONDS * 2) <= per_minute


def open_socket(client_address: str) -> bool:
    """Count a socket opened from an address; False, and not counted, when the address
    already has MAX_SOCKETS_PER_ADDRESS open. Each True is paired with a close_socket()."""
    counted = count_up(
        socket_key(client_address),
        SOCKET_COUNT_SECONDS,
        renew=True,
        limit=MAX_SOCKETS_PER_ADDRESS,
    )
    if counted > MAX_SOCKETS_PER_ADDRESS:
        return False
    open_here[client_address] += 1
    return True


def close_socket(client_address: str) -> None:
    open_here[client_address] -= 1
    if open_here[client_address] <= 0:
        del open_here[client_address]
    # A count that expired meanwhile has been forgotten by the safety net already.
    count_down(socket_key(client_address))


def keep_socket_counts() -> None:
    """Renew the shared counts of the addresses this process holds sockets of, and bring
    back, at least with this process's sockets, a count the safety net forgot: sockets held
    open longer than SOCKET_COUNT_SECONDS still count."""
    held = {socket_key(address): count for address, count in list(open_here.items())}
    keep_counters(held, SOCKET_COUNT_SECONDS)


def socket_key(client_address: str) -> str:
    return f"widget-sockets:{client_address}"


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
