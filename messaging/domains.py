"""Host names a deployment allows the widget to run on, and the platform's own address."""

from __future__ import annotations

import re

HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def host_problem(host: object) -> str | None:
    """Why a value is not a host name (no scheme, port or path), or None when it is one."""
    if not isinstance(host, str) or not host:
        return "Each domain is a host name such as www.example.com."
    if any(mark in host for mark in ("://", "/", ":", "@", " ")):
        return f"{host[:80]} is not a bare host name: leave out the scheme, port and path."
    if len(host) > 253 or not all(HOST_LABEL.match(label) for label in host.split(".")):
        return f"{host[:80]} is not a valid host name."
    return None


def normalize(host: str) -> str:
    return host.strip().lower().rstrip(".")


def platform_url(request) -> str:
    """The platform's address as the client reached it, without a trailing slash: what a
    snippet loads the widget from."""
    return request.build_absolute_uri("/").rstrip("/")
