"""Guarded outbound HTTP: key URLs, OpenID Connect discovery documents and userinfo endpoints,
and the token endpoints of the code flows.

The rules are CONTRACT.md's "Outbound fetches": https only (plain http for hosts listed in
CC_OUTBOUND_ALLOWED_HOSTS), no redirects, one deadline for the whole exchange, a capped body,
and never a loopback, private, link-local, multicast, reserved or metadata address unless the
host is listed. The host name is resolved once, every address it resolves to is vetted, and the
connection goes to the vetted address, so a second DNS answer cannot swap it (DNS rebinding);
the Host header and the TLS server name stay the host name.

httpcore, httpx's own transport, is used directly: it is the layer that lets a connection be
pinned to an address and every socket wait be capped by the deadline. It reads no proxy
settings from the environment and keeps no cookies.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpcore

from contactcenter.lib import outbound

TIMEOUT_SECONDS = 5.0
MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "contactcenter-fetch/1"
DEFAULT_PORTS = {"http": 80, "https": 443}
URL_SAFE = "/%:@!$&'()*+,;=-._~"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even for hosts in CC_OUTBOUND_ALLOWED_HOSTS: nothing the platform fetches lives there.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

# getaddrinfo() cannot be given a timeout; resolving in a worker lets the caller stop waiting.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-resolve")


class FetchError(Exception):
    """A URL could not be fetched. The message tells an administrator why, without secrets."""


@dataclass(frozen=True)
class Fetched:
    """A response body, at most MAX_BODY_BYTES, and its Content-Type header ("" if none)."""

    body: bytes
    content_type: str


def fetch(url: str, *, accept: str = "*/*", headers: Mapping[str, str] | None = None) -> Fetched:
    """GET a URL under the outbound rules. Raises FetchError."""
    return _exchange("GET", url, {"Accept": accept, **(headers or {})}, None)


def post_form(
    url: str,
    data: Mapping[str, str],
    *,
    headers: Mapping[str, str] | None = None,
    accept: str = "application/json",
) -> Fetched:
    """POST form fields (a token request) under the outbound rules. Raises FetchError."""
    form_headers = {
        "Accept": accept,
        "Content-Type": "application/x-www-form-urlencoded",
        **(headers or {}),
    }
    return _exchange("POST", url, form_headers, urlencode(data).encode())


def post(url: str, content: bytes, *, headers: Mapping[str, str]) -> Fetched:
    """POST a body as given, its Content-Type (and any Content-Encoding) in `headers`, under
    the outbound rules. Raises FetchError."""
    return _exchange("POST", url, {"Accept": "application/json", **headers}, content)


def post_json(url: str, body: object, *, headers: Mapping[str, str] | None = None) -> Fetched:
    """POST a JSON document under the outbound rules. Raises FetchError."""
    json_headers = {"Content-Type": "application/json", **(headers or {})}
    return post(url, json.dumps(body).encode(), headers=json_headers)


def vet(url: str) -> IPAddress:
    """The address a fetch of `url` would connect to, once the URL and every address its host
    resolves to pass the outbound rules. Nothing is sent. Raises FetchError."""
    return _vetted_address(_parse(url), time.monotonic() + TIMEOUT_SECONDS)


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    target: str
    allowed: bool

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def _exchange(method: str, url: str, headers: Mapping[str, str], content: bytes | None) -> Fetched:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    target = _parse(url)
    address = _vetted_address(target, deadline)
    request_headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",
        "Connection": "close",
        **headers,
    }
    pool = httpcore.ConnectionPool(
        network_backend=_PinnedBackend(address, deadline), max_connections=1, retries=0
    )
    request_url = httpcore.URL(
        scheme=target.scheme, host=target.host, port=target.port, target=target.target
    )
    try:
        with (
            pool,
            pool.stream(method, request_url, headers=request_headers, content=content) as response,
        ):
            _check_status(response, target.host)
            return Fetched(_read_body(response, target.host), _header(response, "content-type"))
    except httpcore.TimeoutException:
        raise FetchError(
            f"{target.host} did not answer in full within {TIMEOUT_SECONDS:g} s."
        ) from None
    except (httpcore.NetworkError, httpcore.ProtocolError) as error:
        raise FetchError(f"Could not fetch from {target.host}: {error}.") from None


def _parse(url: str) -> _Target:
    """Split a URL that follows the outbound URL policy. Raises FetchError."""
    try:
        problem = outbound.url_problem(url)
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise FetchError("The URL is not valid.") from None
    if problem:
        raise FetchError(problem)
    if not host:
        raise FetchError("The URL has no host name.")
    # Percent-encode what may not travel raw in a request line (spaces, line breaks, non-ASCII).
    target = quote(parts.path or "/", safe=URL_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=URL_SAFE + "?")
    return _Target(
        scheme=parts.scheme,
        host=host,
        port=port,
        target=target,
        allowed=outbound.is_allowed_host(parts.hostname or ""),
    )


def _vetted_address(target: _Target, deadline: float) -> IPAddress:
    """The address to connect to, once every address the host has is vetted. Raises FetchError."""
    addresses = _resolve(target.host, target.port, deadline)
    named = not _is_address(target.host)
    # A name's internal addresses are not told, so refusals cannot map the internal network.
    subject = f"{target.host} resolves to" if named else f"{target.host} is"
    for address in addresses:
        if address in METADATA_ADDRESSES or _embedded_ipv4(address) in METADATA_ADDRESSES:
            raise FetchError(f"{subject} a cloud metadata address; the platform never fetches it.")
        judged = (_embedded_ipv4(address) or address) if named else address
        if not target.allowed and (reason := _refusal(judged)):
            raise FetchError(
                f"{subject} {reason}; the platform fetches from such addresses only for hosts "
                "listed in CC_OUTBOUND_ALLOWED_HOSTS."
            )
    return addresses[0]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int, deadline: float) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    if _is_unusual_ipv4_spelling(host):
        raise FetchError(
            f"{host} is an IP address in an unusual spelling; write it as four decimal numbers "
            "(such as 192.0.2.10), or use a host name."
        )
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        answers = lookup.result(timeout=max(deadline - time.monotonic(), 0))
    except FutureTimeout:
        lookup.cancel()
        raise FetchError(f"Resolving {host} took longer than {TIMEOUT_SECONDS:g} s.") from None
    except (OSError, UnicodeError):
        raise FetchError(f"The host name {host} could not be resolved.") from None
    return [ipaddress.ip_address(answer[4][0]) for answer in answers]


def _is_unusual_ipv4_spelling(host: str) -> bool:
    """Decimal, hex, octal or shortened forms (2130706433, 0x7f000001, 0177.1, 127.1), which
    the C resolver reads as IPv4 addresses."""
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _refusal(address: IPAddress) -> str | None:
    """Why the platform refuses to connect to an address by default, or None when it may."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = _refusal(embedded)
        return f"a form of {embedded}, {reason}" if reason else None
    for reason, applies in (
        ("an unspecified address", address.is_unspecified),
        ("a loopback address", address.is_loopback),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a shared (carrier-grade NAT) address", address in SHARED_ADDRESS_SPACE),
        ("a reserved address", address.is_reserved),
        ("a private address", address.is_private),
        ("not a public address", not address.is_global),
    ):
        if applies:
            return reason
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _check_status(response: httpcore.Response, host: str) -> None:
    if 300 <= response.status < 400:
        raise FetchError(
            f"{host} answered with a redirect (HTTP {response.status})"
            f"{_redirect_target(response)}; redirects are not followed, so give the final URL."
        )
    if not 200 <= response.status < 300:
        raise FetchError(f"{host} answered HTTP {response.status}.")
    if _header(response, "content-encoding").lower() not in ("", "identity"):
        raise FetchError(f"{host} sent a compressed body although none was asked for.")


def _redirect_target(response: httpcore.Response) -> str:
    """Where a redirect points, without user information or query (they may hold secrets)."""
    location = urlsplit(_header(response, "location"))
    if not location.hostname:
        return ""
    return f" to {location.scheme}://{location.hostname}{location.path}"


def _read_body(response: httpcore.Response, host: str) -> bytes:
    """The body, read up to MAX_BODY_BYTES. Raises FetchError past it."""
    too_large = FetchError(f"{host} sent more than {MAX_BODY_BYTES // 1024} KiB.")
    declared = _header(response, "content-length")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    for chunk in response.iter_stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


def _header(response: httpcore.Response, name: str) -> str:
    wanted = name.encode("ascii")
    for key, value in response.headers:
        if key.lower() == wanted:
            return value.decode("latin-1").strip()
    return ""


def _remaining(deadline: float) -> float:
    """Seconds left before the deadline. Raises httpcore.TimeoutException once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.TimeoutException("the fetch deadline passed")
    return left


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the vetted address whatever host the request names, within the deadline."""

    def __init__(self, address: IPAddress, deadline: float) -> None:
        self._address = str(address)
        self._deadline = deadline
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            self._address,
            port,
            timeout=_remaining(self._deadline),
            socket_options=socket_options,
        )
        return _DeadlineStream(stream, self._deadline)


class _DeadlineStream(httpcore.NetworkStream):
    """Caps every socket wait by the time left, so a server trickling bytes cannot outlast it."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, timeout=_remaining(self._deadline))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, timeout=_remaining(self._deadline))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._stream.start_tls(
            ssl_context, server_hostname=server_hostname, timeout=_remaining(self._deadline)
        )
        return _DeadlineStream(stream, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)
