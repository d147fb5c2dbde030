"""Fixtures of the Apple tests: the MSP settings, the gateway stand-in, an Apple workstream
and channel with an OpenID Connect setting whose provider is the loopback key server."""

from __future__ import annotations

import pytest

from contactcenter.models import ChannelType
from messaging.models import ChannelInstance
from tests.apple.device import BUSINESS_ID
from tests.apple.gateway import MSP_ID, MSP_SECRET, Gateway
from tests.helpers import Type, make_setting
from workstreams.models import Queue, RoutingRule, Workstream


@pytest.fixture
def msp(settings):
    settings.APPLE_MSP_ID = MSP_ID
    settings.APPLE_MSP_SECRET = MSP_SECRET
    return settings


@pytest.fixture
def gateway(msp, key_server):
    stand_in = Gateway(key_server)
    stand_in.install()
    msp.APPLE_GATEWAY_URL = stand_in.url
    return stand_in


@pytest.fixture
def apple_workstream(db):
    workstream = Workstream.objects.create(
        name="Messages", channel_type=ChannelType.APPLE_MESSAGES_FOR_BUSINESS
    )
    workstream.default_queue = Queue.objects.create(name="Apple general", workstream=workstream)
    workstream.save()
    verified = Queue.objects.create(name="Apple verified", workstream=workstream)
    RoutingRule.objects.create(
        workstream=workstream,
        name="Signed in",
        order=1,
        queue=verified,
        priority=5,
        conditions=[{"variable": "authenticated", "operator": "eq", "value": True}],
    )
    return workstream


def apple_setting(key_server, authentication_type=Type.OAUTH2_OPENID_CONNECT, **fields):
    return make_setting(
        authentication_type,
        access_token_url=key_server.url("/token"),
        decrypted_token_url=key_server.url("/me"),
        access_token_expiry_seconds=120,
        **fields,
    )


@pytest.fixture
def apple_channel(apple_workstream, key_server):
    return ChannelInstance.objects.create(
        name="Contoso on Messages",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        business_id=BUSINESS_ID,
        authentication_setting=apple_setting(key_server),
        require_authentication=False,
    )


@pytest.fixture
def apple_agent(bob, apple_workstream):
    bob.queues.add(*apple_workstream.queues.all())
    return bob
