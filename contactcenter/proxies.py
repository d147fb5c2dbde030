"""Who is on the other end of a request or a socket, when reverse proxies stand between.

`X-Forwarded-For` and `X-Forwarded-Proto` are believed only from the addresses in
`CC_TRUSTED_PROXIES` (single addresses or networks such as `10.0.0.0/8`); from anyone else they
are ignored, so a visitor cannot choose the address its rate limits count against.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def trusted_networks() -> tuple[Network, ...]:
    """CC_TRUSTED_PROXIES as networks. Raises ValueError for an entry that is not an address."""
    return _networks(tuple(settings.CC_TRUSTED_PROXIES))


def is_trusted_proxy(address: str | None) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_networks())


def client_address(peer: str | None, forwarded_for: str | None) -> str:
    """The visitor's address: the peer itself, or, when the peer is a trusted proxy, the
    nearest address in `X-Forwarded-For` that is not one of the trusted proxies."""
    address = peer or "unknown"
    if not forwarded_for or not is_trusted_proxy(address):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a garbled chain: count the proxy, not a name someone chose
        address = hop
        if not is_trusted_proxy(hop):
            return hop
    return address


def forwarded_scheme(peer: str | None, forwarded_proto: str | None) -> str | None:
    """`http` or `https` as a trusted proxy says the client spoke it, or None."""
    if not forwarded_proto or not is_trusted_proxy(peer):
        return None
    scheme = forwarded_proto.split(",")[0].strip().lower()
    return scheme if scheme in ("http", "https") else None
