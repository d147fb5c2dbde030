"""Sockets to the platform's WebSocket routes, in process."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager

from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.sessions import SessionMiddlewareStack
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import path

from contactcenter.routing import websocket_urlpatterns
from messaging.agent_socket import AgentConsumer
from messaging.routing import OwnOriginValidator

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
    async with connected(communicator):
        yield communicator


@asynccontextmanager
async def connected(communicator: WebsocketCommunicator):
    """The communicator connected, and disconnected again when the block ends."""
    accepted, _ = await communicator.connect()
    assert accepted
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def signed_in(user) -> Client:
    """A browser session of the user, as a sign-in page leaves it."""
    client = Client()
    await database_sync_to_async(client.force_login)(user)
    return client


def console_application(clock: Callable[[], float]):
    """The platform's console route, its consumer reading time from `clock`."""
    consumer = AgentConsumer.as_asgi(clock=clock)
    return URLRouter([path("ws/agent/", OwnOriginValidator(SessionMiddlewareStack(consumer)))])


def console_socket(
    client: Client,
    *,
    origin: str | None = f"http://{PLATFORM_HOST}",
    host: str = PLATFORM_HOST,
    clock: Callable[[], float] | None = None,
) -> WebsocketCommunicator:
    """The console's socket through the real route, carrying the session cookie of the
    client's browser, its time read from `clock` when given; not connected yet."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    handshake = [(b"host", host.encode()), (b"cookie", cookie.encode())]
    if origin is not None:
        handshake.append((b"origin", origin.encode()))
    route = application if clock is None else console_application(clock)
    return WebsocketCommunicator(route, "/ws/agent/", headers=handshake)


async def agent_socket(user) -> WebsocketCommunicator:
    """The console's socket in a new signed-in session of the user; not connected yet."""
    return console_socket(await signed_in(user))


@asynccontextmanager
async def console(
    user, *, origin: str | None = f"http://{PLATFORM_HOST}", host: str = PLATFORM_HOST
):
    """The agent console's socket, connected, in the user's signed-in session."""
    async with connected(console_socket(await signed_in(user), origin=origin, host=host)) as agent:
        yield agent


async def answer_to(agent: WebsocketCommunicator, frame_type: str, conversation, **fields) -> dict:
    """The console socket's next frame after the agent sends a frame of `frame_type` about
    `conversation` (with `fields`)."""
    await agent.send_json_to({"type": frame_type, "conversation": conversation, **fields})
    return await agent.receive_json_from(timeout=5)


def resume_frame(started: dict) -> dict:
    """The resume frame for a conversation as its `started` frame named it."""
    return {
        "type": "resume",
        "conversation": started["conversation"],
        "resume_token": started["resume_token"],
    }


async def refusal(communicator) -> tuple[dict, int]:
    """The error frame and the close code of a refused start."""
    frame = await communicator.receive_json_from(timeout=5)
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close"
    return frame, closing["code"]


async def refused_start(widget_id, token: str | None, **where: str) -> tuple[dict, int]:
    """The error frame and close code of a start with `token` on a socket to the widget opened
    from `where` (origin, host), which must be refused."""
    async with socket(widget_id, **where) as communicator:
        await communicator.send_json_to({"type": "start", "token": token})
        return await refusal(communicator)
