"""Delivering agents' messages and sign-in requests to Apple customers, with retries.

A message waits `pending` with the time of its next attempt. Each attempt is claimed first
(its next attempt moved a lease ahead, compare-and-set on the time it had), so two processes
never send it twice, and one that dies mid-send leaves it to be tried again. After a failure
it is tried again RETRY_DELAYS later; once they are used up it is `failed`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from messaging import actions
from messaging.apple import gateway, msp
from messaging.apple.authentication import interactive_data
from messaging.models import Message

logger = logging.getLogger(__name__)

# Seconds before each retry: 3 retries over 40 seconds.
RETRY_DELAYS: tuple[int, ...] = (2, 8, 30)
# A claimed attempt is someone else's to retry when its process has not finished it by then.
LEASE = timedelta(seconds=60)
BATCH = 50
AUTHENTICATE = "authenticate"
UNDELIVERED_SIGN_IN = (
    "The sign-in request could not be delivered to the customer's device; request it again."
)


def deliver_due(*, now: datetime, retry_delays: Sequence[int] = RETRY_DELAYS) -> int:
    """Attempt every delivery due at `now`; returns how many were attempted."""
    claimed = claim_due(now)
    for message in claimed:
        attempt(message, now=now, retry_delays=retry_delays)
    return len(claimed)


def claim_due(now: datetime) -> list[Message]:
    due = (
        Message.objects.filter(delivery=Message.Delivery.PENDING, next_delivery_at__lte=now)
        .select_related(
            "conversation__channel_instance",
            "apple_authentication_request__setting",
            "apple_authentication_request__rich_message",
        )
        .order_by("next_delivery_at", "id")[:BATCH]
    )
    return [
        message
        for message in due
        if Message.objects.filter(
            pk=message.pk,
            delivery=Message.Delivery.PENDING,
            next_delivery_at=message.next_delivery_at,
        ).update(next_delivery_at=now + LEASE)
    ]


def attempt(message: Message, *, now: datetime, retry_delays: Sequence[int]) -> None:
    attempts = message.delivery_attempts + 1
    try:
        send(message)
    except (gateway.GatewayError, msp.NotConfigured) as error:
        logger.warning("Apple delivery of message %s failed: %s", message.pk, error)
        if attempts <= len(retry_delays):
            actions.do_record_delivery(
                message,
                delivery=Message.Delivery.PENDING,
                attempts=attempts,
                next_at=now + timedelta(seconds=retry_delays[attempts - 1]),
            )
            return
        actions.do_record_delivery(
            message, delivery=Message.Delivery.FAILED, attempts=attempts, next_at=None
        )
        sign_in = getattr(message, "apple_authentication_request", None)
        if sign_in is not None and actions.do_use_sign_in(sign_in, now=now):
            actions.do_fail_sign_in(sign_in, code="delivery_failed", detail=UNDELIVERED_SIGN_IN)
        return
    actions.do_record_delivery(
        message, delivery=Message.Delivery.DELIVERED, attempts=attempts, next_at=None
    )


def send(message: Message) -> None:
    conversation = message.conversation
    business_id = conversation.channel_instance.business_id
    sign_in = getattr(message, "apple_authentication_request", None)
    if sign_in is not None:
        gateway.send_interactive(
            business_id=business_id,
            customer_id=conversation.customer_id,
            interactive_data=interactive_data(sign_in),
            endpoint=AUTHENTICATE,
        )
    else:
        gateway.send_text(
            business_id=business_id, customer_id=conversation.customer_id, text=message.text
        )
