"""What the platform sends Apple's gateway, built for tests of the stand-in: the MSP's
credentials, its bearer token and message bodies."""

from __future__ import annotations

import time
import uuid

import jwt

from contactcenter.portal.apple import AUTHENTICATION_BID

MSP_ID = "demo-msp"
SECRET = b"the demo's MSP secret, 32 bytes."


def platform_token(*, secret: bytes = SECRET, iss: str = MSP_ID, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"iss": iss, "iat": now, "exp": now + 60, **claims}, secret, "HS256")


def to_device(business_id: str, customer_id: str, kind: str = "text", **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "sourceId": business_id,
        "destinationId": customer_id,
        "v": 1,
        **fields,
    }


def sign_in_request(
    business_id: str, customer_id: str, request_identifier: str, redirect_uri: str
) -> dict:
    """An OpenID Connect authentication request as the platform sends it."""
    return to_device(
        business_id,
        customer_id,
        "interactive",
        interactiveData={
            "bid": AUTHENTICATION_BID,
            "data": {
                "version": "1.0",
                "requestIdentifier": request_identifier,
                "authenticate": {
                    "oauth2": {
                        "responseType": "code",
                        "scope": ["openid", "email"],
                        "state": "a-single-use-state",
                        "redirectURI": redirect_uri,
                    }
                },
            },
            "receivedMessage": {"title": "Sign in to Northwind Outfitters", "style": "icon"},
            "replyMessage": {"title": "I signed in", "style": "icon"},
        },
    )
