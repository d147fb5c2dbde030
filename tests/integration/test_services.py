"""The platform on its production services: PostgreSQL and the channels-redis layer.

`make test` runs these again with DATABASE_URL and REDIS_URL set; on the plain run they prove
the same behaviour on SQLite and the in-memory layer.
"""

from __future__ import annotations

import os

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.integration


def test_the_configured_services_are_the_ones_in_use():
    expected_layer = (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
        if os.environ.get("REDIS_URL")
        else "channels.layers.InMemoryChannelLayer"
    )
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == expected_layer
    expected_vendor = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    assert connection.vendor == expected_vendor


@pytest.mark.django_db
def test_every_migration_is_applied_and_none_is_missing():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'messaging'")
        assert cursor.fetchone()[0] >= 1


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """Joins the group named in its URL and relays what the group says."""

    async def connect(self):
        self.group = self.scope["url_route"]["kwargs"]["room"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        await self.channel_layer.group_send(self.group, {"type": "relay", "text": content["text"]})

    async def relay(self, event):
        await self.send_json({"text": event["text"]})


async def test_a_message_crosses_the_channel_layer_between_two_consumers():
    from channels.routing import URLRouter
    from django.urls import path

    application = URLRouter([path("ws/room/<str:room>/", RoomConsumer.as_asgi())])
    visitor = WebsocketCommunicator(application, "/ws/room/conversation-1/")
    agent = WebsocketCommunicator(application, "/ws/room/conversation-1/")
    try:
        assert (await visitor.connect())[0]
        assert (await agent.connect())[0]
        await visitor.send_json_to({"text": "hello from the visitor"})
        assert await agent.receive_json_from(timeout=5) == {"text": "hello from the visitor"}
        assert await visitor.receive_json_from(timeout=5) == {"text": "hello from the visitor"}
    finally:
        await visitor.disconnect()
        await agent.disconnect()
        await get_channel_layer().flush()
