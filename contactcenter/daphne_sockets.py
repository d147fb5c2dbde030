"""What daphne keeps of a WebSocket once it is open: no more than the socket needs.

An open socket kept, through daphne, Twisted and autobahn, everything its handshake needed:
Twisted's upgrade request and its headers (the HTTP channel stays the transport's producer and
keeps the request in its list), and autobahn's parsed handshake (request line, headers, origin,
protocols, the response sent). Nothing reads them once the socket is open but daphne's log
lines, which name the request's path. A chat socket lives for minutes and a process holds
thousands: letting go of them saves about 5 KiB of each idle socket's 37
(bench/bench_idle_sockets.py), more with a browser's cookies and headers. (Where daphne
terminates TLS itself rather than a reverse proxy, Twisted's TLS layer stands between and the
upgrade request is kept; autobahn's handshake still goes.)
"""

from __future__ import annotations

from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.web.http import HTTPChannel

# autobahn's state that only the server's opening handshake reads.
HANDSHAKE_ONLY = (
    "http_request_data",
    "http_headers",
    "http_status_line",
    "http_request_uri",
    "http_request_path",
    "http_request_params",
    "http_request_host",
    "http_response_data",
    "websocket_origin",
    "websocket_protocols",
    "websocket_extensions",
)


class OpenedRequest:
    """What daphne still reads of the upgrade request once the socket is open."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class LeanWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol, which lets go of its handshake once the socket is open."""

    def onOpen(self) -> None:
        super().onOpen()
        channel = getattr(self.transport, "producer", None)
        if isinstance(channel, HTTPChannel):
            channel.requests = []
        self.request = OpenedRequest(self.request.path)
        kept = vars(self)
        for name in HANDSHAKE_ONLY:
            if name in kept:
                kept[name] = None


def install() -> None:
    """Have daphne open its WebSockets with LeanWebSocketProtocol. Serving with another server
    (uvicorn), this changes nothing."""
    WebSocketFactory.protocol = LeanWebSocketProtocol
