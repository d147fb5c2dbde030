"""The tests' simulated Apple device as Apple's gateway relays it: inbound JWTs signed with the
MSP secret, gzip JSON POSTed to /apple/message (through the test client or to a live server),
and the code flow's encrypted token."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid

import httpx
import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from django.test import Client

from contactcenter.portal import apple
from tests.apple.gateway import MSP_ID, MSP_SECRET

BUSINESS_ID = "contoso-business-1"
CUSTOMER = "urn:mbid:AQAAY2hlY2tlZC1jdXN0b21lcg"


def apple_token(*, secret: bytes = MSP_SECRET, algorithm: str = "HS256", **claims) -> str:
    now = int(time.time())
    payload = {"aud": MSP_ID, "iat": now, "exp": now + 300, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm)


def body(kind: str, *, customer: str = CUSTOMER, **members) -> dict:
    return {**apple.envelope(customer, BUSINESS_ID, kind), **members}


def post(
    target: Client | str,
    document: dict | bytes,
    *,
    message_id: str | None = None,
    customer: str = CUSTOMER,
    business_id: str = BUSINESS_ID,
    capabilities: str | None = "AUTH,AUTH2,LIST",
    token: str | None = None,
    compress: bool = True,
    url: str = "/apple/message",
):
    """POST a message as Apple's gateway does: gzip JSON with Apple's JWT and headers, through
    a test client or, given a live server's base URL, over HTTP (asserting it answers 200)."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    sent = headers(message_id=message_id, customer=customer, business_id=business_id, token=token)
    if capabilities is not None:
        sent["capability-list"] = capabilities
    if compress:
        raw = gzip.compress(raw)
        sent["Content-Encoding"] = "gzip"
    if isinstance(target, str):
        response = httpx.post(
            target + url,
            content=raw,
            headers={**sent, "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return response
    return target.post(url, raw, content_type="application/json", headers=sent)


def headers(
    *,
    message_id: str | None = None,
    customer: str = CUSTOMER,
    business_id: str = BUSINESS_ID,
    token: str | None = None,
) -> dict[str, str]:
    """Apple's headers of a message."""
    return {
        "Authorization": f"Bearer {apple_token() if token is None else token}".strip(),
        "id": message_id or str(uuid.uuid4()),
        "source-id": customer,
        "destination-id": business_id,
    }


def text(target: Client | str, words: str, **options):
    return post(target, body("text", body=words), **options)


def sign_in_reply(request_identifier: str, status: str = "authenticated", **authenticate):
    return body(
        "interactive",
        interactiveData={
            "data": {
                "requestIdentifier": request_identifier,
                "authenticate": {"status": status, **authenticate},
            }
        },
    )


def encrypt_token(response_encryption_key: str, access_token: str) -> str:
    """What the device does with the code flow's access token: ECDH with an ephemeral P-384
    key, X9.63 KDF (SHA-256, the ephemeral point as shared info), AES-256-GCM."""
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP384R1(), base64.b64decode(response_encryption_key)
    )
    ephemeral = ec.generate_private_key(ec.SECP384R1())
    point = ephemeral.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    shared = ephemeral.exchange(ec.ECDH(), public)
    derived = X963KDF(algorithm=hashes.SHA256(), length=48, sharedinfo=point).derive(shared)
    sealed = AESGCM(derived[:32]).encrypt(derived[32:], access_token.encode(), None)
    return base64.b64encode(point + sealed).decode()
