"""An agent's message to an Apple customer: stored pending, sent to Apple's gateway with a
short-lived MSP token, and shown delivered, or failed after its retries."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from messaging.apple.deliveries import RETRY_DELAYS
from messaging.models import Message
from tests.apple.console import accepted, sweep
from tests.apple.device import BUSINESS_ID, CUSTOMER
from tests.apple.gateway import MSP_ID

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_agents_message_goes_pending_then_delivered_with_apples_shape(
    gateway, apple_channel, apple_agent
):
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        assert summary["channel_kind"] == "apple_messages_for_business"
        assert summary["customer_id"] == CUSTOMER
        await agent.send_json_to(
            {"type": "message", "conversation": summary["id"], "text": "It ships today."}
        )
        posted = await agent.receive_json_from(timeout=5)
        assert (posted["text"], posted["delivery"]) == ("It ships today.", "pending")
        await sweep(timezone.now())
        assert await agent.receive_json_from(timeout=5) == {
            "type": "delivery",
            "conversation": summary["id"],
            "message": posted["id"],
            "delivery": "delivered",
        }
        assert await agent.receive_nothing(timeout=0.2)

    [sent] = gateway.sent("message")
    assert sent.headers["source-id"] == BUSINESS_ID
    assert sent.headers["destination-id"] == CUSTOMER
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.body == {
        "id": sent.headers["id"],
        "type": "text",
        "sourceId": BUSINESS_ID,
        "destinationId": CUSTOMER,
        "v": 1,
        "body": "It ships today.",
    }
    assert sent.claims["iss"] == MSP_ID
    assert sent.claims["exp"] - sent.claims["iat"] <= 60
    assert not gateway.refused


async def test_a_failing_gateway_is_retried_then_the_message_is_failed(
    gateway, apple_channel, apple_agent
):
    gateway.fail(len(RETRY_DELAYS) + 1)
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        await agent.send_json_to({"type": "message", "conversation": summary["id"], "text": "x"})
        posted = await agent.receive_json_from(timeout=5)
        now = timezone.now()
        await sweep(now)
        message = await database_sync_to_async(Message.objects.get)(pk=posted["id"])
        assert (message.delivery, message.delivery_attempts) == ("pending", 1)
        # Not due again before its retry delay: nothing is sent.
        await sweep(now + timedelta(seconds=RETRY_DELAYS[0] - 1))
        assert gateway.server.hits["/gateway/message"] == 1
        for delay in RETRY_DELAYS:
            now += timedelta(seconds=delay)
            await sweep(now)
        assert gateway.server.hits["/gateway/message"] == len(RETRY_DELAYS) + 1
        assert await agent.receive_json_from(timeout=5) == {
            "type": "delivery",
            "conversation": summary["id"],
            "message": posted["id"],
            "delivery": "failed",
        }
        await sweep(now + timedelta(minutes=5))
        assert gateway.server.hits["/gateway/message"] == len(RETRY_DELAYS) + 1
    assert sum(RETRY_DELAYS) >= 30
    assert not gateway.received


async def test_a_retry_that_gets_through_is_delivered(gateway, apple_channel, apple_agent):
    gateway.fail(2)
    async with AsyncExitStack() as stack:
        agent, summary = await accepted(stack, apple_agent)
        await agent.send_json_to({"type": "message", "conversation": summary["id"], "text": "y"})
        posted = await agent.receive_json_from(timeout=5)
        now = timezone.now()
        for delay in (0, *RETRY_DELAYS[:2]):
            now += timedelta(seconds=delay)
            await sweep(now)
        frame = await agent.receive_json_from(timeout=5)
        assert (frame["message"], frame["delivery"]) == (posted["id"], "delivered")
    assert len(gateway.sent("message")) == 1
