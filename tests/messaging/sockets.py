"""Sockets to the platform's WebSocket routes, in process."""

from __future__ import annotations

from contextlib import asynccontextmanager

from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from contactcenter.routing import websocket_urlpatterns

SITE = "https://portal.example.com"
# A host in the test settings' ALLOWED_HOSTS, as a browser sends it for the platform's own port.
PLATFORM_HOST = "localhost:8000"
application = URLRouter(websocket_urlpatterns)


@asynccontextmanager
async def socket(
    widget_id,
    *,
    origin: str | None = SITE,
    host: str = PLATFORM_HOST,
    client: tuple[str, int] | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
):
    """A socket to the widget route from a page (`origin`), reaching the platform at `host`;
    `client` is the peer's address and port, `headers` any more handshake headers."""
    handshake = [(b"host", host.encode()), *headers]
    if origin is not None:
        handshake.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, f"/ws/widget/{widget_id}/", headers=handshake)
    if client is not None:
        communicator.scope["client"] = client
    connected, _ = await communicator.connect()
    assert connected
    try:
        yield communicator
    finally:
        await communicator.disconnect()


@asynccontextmanager
async def console(
    user, *, origin: str | None = f"http://{PLATFORM_HOST}", host: str = PLATFORM_HOST
):
    """The agent console's socket through the real route, in the user's signed-in session."""
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    handshake = [(b"host", host.encode()), (b"cookie", cookie.encode())]
    if origin is not None:
        handshake.append((b"origin", origin.encode()))
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=handshake)
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
