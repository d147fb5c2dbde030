"""What both sockets share: strict frame decoding, refusals and their close codes, and what a
socket's handshake says of who is on the other end."""

from __future__ import annotations

import json

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from contactcenter import proxies
from contactcenter.lib.errors import Refused
from messaging import direct_channels
from messaging.outbox import outbox

MAX_FRAME_BYTES = 16 * 1024
MAX_MESSAGE_CHARACTERS = 4000

CLOSE_BAD_FRAME = 4400
CLOSE_AUTHENTICATION = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_ENDED = 4410
CLOSE_RATE_LIMITED = 4429


class FrameRefused(Refused):
    """A frame refused: sent as an error frame, and at start followed by a close."""


class FrameConsumer(AsyncJsonWebsocketConsumer):
    """Decodes frames strictly (size, JSON object with a string `type`) and dispatches them
    to `frame_<type>` methods; anything else is a `bad_frame` error."""

    frame_types: frozenset[str] = frozenset()

    async def __call__(self, scope, receive, send):
        """Channels' consumer, reading the server's messages and the channel layer's events
        from one queue (messaging.direct_channels) where it can."""
        layer = get_channel_layer(self.channel_layer_alias)
        channel_name = direct_channels.open_channel(layer, receive)
        if channel_name is None:
            return await super().__call__(scope, receive, send)
        self.scope = scope
        self.channel_layer = layer
        self.channel_name = channel_name
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            direct_channels.close_channel(layer, channel_name)

    async def dispatch(self, message):
        """Channels' dispatch, less its hop to the database thread to close stale connections
        before each frame and event: every database call of ours does that on the thread it
        runs on (Channels' database_sync_to_async), and the hop queued each event (a chat
        message on its way to an agent) behind every other socket's database work."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_connect(self, message):
        outbox.attach()  # the events this socket's work tells leave from its event loop
        await super().websocket_connect(message)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = self.decode_frame(text_data, bytes_data)
            handler = getattr(self, f"frame_{content['type']}")
            await handler(content)
        except Refused as refusal:  # ours, or a token's, origin's or action's refusal
            await self.refuse(refusal.code, refusal.detail)

    def decode_frame(self, text_data, bytes_data) -> dict:
        if text_data is None:
            raise FrameRefused("bad_frame", "Send JSON text frames.")
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            raise FrameRefused("bad_frame", f"A frame is at most {MAX_FRAME_BYTES} bytes.")
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            raise FrameRefused("bad_frame", "A frame is a JSON object.") from None
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            raise FrameRefused("bad_frame", 'A frame is a JSON object with a "type".')
        if content["type"] not in self.allowed_frame_types():
            raise FrameRefused(
                "bad_frame", f"A {content['type'][:40]!r} frame is not expected now."
            )
        return content

    def allowed_frame_types(self) -> frozenset[str]:
        return self.frame_types

    async def refuse(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})


def check_message_text(text: object) -> None:
    """Raises FrameRefused (`bad_frame`) unless the text is 1 to 4000 characters without NUL."""
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_MESSAGE_CHARACTERS:
        raise FrameRefused("bad_frame", f"A message is 1 to {MAX_MESSAGE_CHARACTERS} characters.")
    if "\x00" in text:
        raise FrameRefused("bad_frame", "A message cannot hold a NUL character.")


def scope_header(scope: dict, name: str) -> str | None:
    """A header of the socket's handshake; several of one name are joined with commas."""
    wanted = name.encode()
    values = [value.decode("latin-1") for key, value in scope.get("headers", []) if key == wanted]
    return ",".join(values) if values else None


def scope_peer(scope: dict) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def client_address(scope: dict) -> str:
    """The visitor's address: the peer, or what a trusted proxy says in X-Forwarded-For."""
    return proxies.client_address(scope_peer(scope), scope_header(scope, "x-forwarded-for"))
