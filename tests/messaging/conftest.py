"""A chat widget whose setting checks tokens against the loopback key server, and sockets."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from contactcenter.routing import websocket_urlpatterns
from messaging.models import ChannelInstance, Deployment
from tests.keyserver import ISSUER, claims, make_token, public_pem
from workstreams.models import Queue, RoutingRule

SITE = "https://portal.example.com"
application = URLRouter(websocket_urlpatterns)


@pytest.fixture
def chat(db, workstream, key_server, keys):
    """A widget requiring authentication, a deployment for the site, and routing rules."""
    key_server.serve("/publickey", public_pem(keys.signing), content_type="text/plain")
    setting = AuthenticationSetting.objects.create(
        name="Portal",
        channel_type=ChannelType.LIVE_CHAT,
        authentication_type=AuthenticationSetting.Type.OAUTH2_IMPLICIT,
        public_key_url=key_server.url("/publickey"),
        javascript_client_function="auth.getAuthenticationToken",
        expected_issuer=ISSUER,
    )
    widget = ChannelInstance.objects.create(
        name="Portal chat",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=setting,
    )
    deployment = Deployment.objects.create(
        name="Portal", channel_instance=widget, allowed_domains=["portal.example.com"]
    )
    vip = Queue.objects.create(name="VIP", workstream=workstream)
    RoutingRule.objects.create(
        workstream=workstream,
        name="VIP first",
        order=1,
        conditions=[{"variable": "msdyn_isvip", "operator": "eq", "value": True}],
        queue=vip,
        priority=10,
    )
    return widget, deployment


def token_for(keys, **overrides) -> str:
    return make_token(keys.signing, claims(time.time(), **overrides))


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


refresh = database_sync_to_async(lambda record: record.refresh_from_db() or record)
