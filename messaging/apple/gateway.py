"""Requests to Apple's gateway (CONTRACT.md "Outbound"): `<gateway>/message` for texts and
`<gateway>/authenticate` for sign-in requests, each with a fresh short-lived MSP token."""

from __future__ import annotations

import uuid

from django.conf import settings

from contactcenter import metrics
from contactcenter.lib import fetch
from messaging.apple import msp

API_VERSION = 1


class GatewayError(Exception):
    """Apple's gateway could not be reached or refused the message; worth another try."""


def envelope(message_id: str, *, business_id: str, customer_id: str, kind: str) -> dict:
    """The members every message to a customer starts with."""
    return {
        "id": message_id,
        "type": kind,
        "sourceId": business_id,
        "destinationId": customer_id,
        "v": API_VERSION,
    }


def send_text(*, business_id: str, customer_id: str, text: str) -> None:
    """Send a customer a text message. Raises GatewayError, msp.NotConfigured."""
    message_id = str(uuid.uuid4())
    body = {
        **envelope(message_id, business_id=business_id, customer_id=customer_id, kind="text"),
        "body": text,
    }
    _post("message", message_id, business_id, customer_id, body)


def send_interactive(
    *, business_id: str, customer_id: str, interactive_data: dict, endpoint: str
) -> None:
    """Send a customer an interactive message (to `authenticate` for a sign-in). Raises
    GatewayError, msp.NotConfigured."""
    message_id = str(uuid.uuid4())
    body = {
        **envelope(
            message_id, business_id=business_id, customer_id=customer_id, kind="interactive"
        ),
        "interactiveData": interactive_data,
    }
    _post(endpoint, message_id, business_id, customer_id, body)


@metrics.counted(metrics.APPLE_MESSAGES, metrics.always_ok, direction="out")
def _post(endpoint: str, message_id: str, business_id: str, customer_id: str, body: dict):
    headers = {
        "Authorization": f"Bearer {msp.gateway_jwt()}",
        "id": message_id,
        "source-id": business_id,
        "destination-id": customer_id,
    }
    try:
        fetch.post_json(f"{settings.APPLE_GATEWAY_URL}/{endpoint}", body, headers=headers)
    except fetch.FetchError as error:
        raise GatewayError(str(error)) from None
