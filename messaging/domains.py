"""Host names a deployment allows the widget to run on, and the platform's own address."""

from __future__ import annotations

import re

from django.conf import settings

HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PORT = re.compile(r"^[0-9]{1,5}$")
MAX_PORT = 65535


def host_problem(entry: object) -> str | None:
    """Why a value is not a host name with an optional port (`www.example.com`,
    `localhost:3000`; no scheme or path), or None when it is one."""
    if not isinstance(entry, str) or not entry:
        return "Each domain is a host name such as www.example.com."
    if any(mark in entry for mark in ("://", "/", "@", " ", "[")):
        return f"{entry[:80]} is not a bare host name: leave out the scheme and path."
    host, colon, port = entry.partition(":")
    if colon and not (PORT.match(port) and 1 <= int(port) <= MAX_PORT):
        return f"{entry[:80]} has no valid port: give one from 1 to {MAX_PORT}, or none."
    if len(host) > 253 or not all(HOST_LABEL.match(label) for label in host.split(".")):
        return f"{entry[:80]} is not a valid host name."
    return None


def normalize(entry: str) -> str:
    """An allowed-domains entry: its host name normalized, with its port if any."""
    host, colon, port = entry.strip().partition(":")
    return normalize_host(host) + colon + port


def normalize_host(host: str) -> str:
    """A host name (or IP address) in lower case without a trailing dot."""
    return host.strip().lower().rstrip(".")


def platform_url(request) -> str:
    """The platform's public base URL, without a trailing slash: CC_PUBLIC_URL, else the
    address the client reached. Every URL handed out (snippets, redirect URLs) starts with it."""
    return settings.CC_PUBLIC_URL or request.build_absolute_uri("/").rstrip("/")
