"""Sockets to the platform's WebSocket routes, in process."""

from __future__ import annotations

from contextlib import asynccontextmanager

from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from contactcenter.routing import websocket_urlpatterns

SITE = "https://portal.example.com"
application = URLRouter(websocket_urlpatterns)


@asynccontextmanager
async def socket(widget_id, *, origin: str | None = SITE, host: str = "cc.example.com"):
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/widget/{widget_id}/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def refusal(communicator) -> tuple[dict, int]:
    """The error frame and the close code of a refused start."""
    frame = await communicator.receive_json_from(timeout=5)
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    return frame, closing["code"]
