"""Apple's side of Apple Messages for Business, for the demo and the tests: a stand-in for the
gateway the platform sends to, and a simulated device whose customer writes to the platform.

Both speak CONTRACT.md's "Apple Messages for Business" shape and sign or verify with PyJWT
directly, as Apple would: HS256 with the MSP secret's decoded bytes. What the stand-in receives
is kept per customer in the Django cache (Redis when REDIS_URL is set), numbered by an atomic
counter, so every server process sees the same conversation.
"""

from __future__ import annotations

import gzip
import json
import secrets
import time
import uuid
import zlib
from urllib.parse import urlencode

import jwt
from django.conf import settings

from contactcenter.lib import fetch
from contactcenter.lib.shared_cache import cache, count_up
from messaging.apple import msp
from messaging.apple.authentication import BALLOON_ID

ALGORITHM = "HS256"
INBOUND_TOKEN_SECONDS = 5 * 60
# What the simulated device can show: the OpenID Connect sign-in and the earlier one.
CAPABILITIES = "AUTH,AUTH2"
MAX_BODY_BYTES = 1024 * 1024
# A demo conversation is kept a day after its last message.
KEEP_SECONDS = 24 * 3600


class Refused(Exception):
    """A request the stand-in does not accept; `status` is the HTTP answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def msp_id() -> str:
    return settings.APPLE_MSP_ID


def msp_secret() -> bytes:
    """The MSP secret's decoded bytes; b"" when unset."""
    return settings.APPLE_MSP_SECRET


def new_customer_id() -> str:
    """An opaque customer id in Apple's form."""
    return "urn:mbid:" + secrets.token_urlsafe(32)


# The stand-in gateway


def verify_platform_jwt(authorization: str) -> dict:
    """The claims of the platform's bearer token, checked as Apple's gateway checks it: HS256
    with the MSP secret, `iss` the MSP id, `iat` and `exp` present, not expired. Raises Refused (401
    without a bearer token, 403 for a token that fails, 503 when the MSP is not configured)."""
    if not msp.is_configured():
        raise Refused(503, "Set CC_APPLE_MSP_ID and CC_APPLE_MSP_SECRET.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "Send the MSP's JWT as Authorization: Bearer <token>.")
    try:
        return jwt.decode(
            token.strip(),
            msp_secret(),
            algorithms=[ALGORITHM],
            issuer=msp_id(),
            leeway=settings.CC_JWT_LEEWAY_SECONDS,
            options={"require": ["iss", "iat", "exp"]},
        )
    except jwt.PyJWTError as error:
        raise Refused(403, f"The token is refused: {error}.") from None


def read_body(content: bytes, encoding: str) -> dict:
    """The JSON object of a request body, gzip-compressed or plain. Raises Refused (400, 413)."""
    if encoding.strip().lower() == "gzip":
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            content = inflater.decompress(content, MAX_BODY_BYTES + 1)
        except zlib.error:
            raise Refused(400, "The body is not valid gzip.") from None
    if len(content) > MAX_BODY_BYTES:
        raise Refused(413, "The body is larger than 1 MiB.")
    try:
        body = json.loads(content)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise Refused(400, "The body is not a JSON object.")
    return body


def check_addressing(headers, body: dict, *, kind: str) -> str:
    """The customer a gateway request is for, once its headers and body agree. Raises Refused."""
    addressing = (("id", "id"), ("source-id", "sourceId"), ("destination-id", "destinationId"))
    for header, field in addressing:
        value = headers.get(header, "")
        if not value:
            raise Refused(400, f"The {header} header is missing.")
        if body.get(field) != value:
            raise Refused(400, f"The body's {field} differs from the {header} header.")
    if body.get("v") != 1:
        raise Refused(400, 'The body\'s "v" must be 1.')
    if body.get("type") != kind:
        raise Refused(400, f'This endpoint takes messages of type "{kind}".')
    return headers["destination-id"]


def received_text(body: dict) -> dict:
    """The device's view of a text message from the business. Raises Refused."""
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise Refused(400, 'A text message needs a "body".')
    return {"from": "business", "kind": "text", "text": text}


def received_sign_in(body: dict, *, client_id: str, authorize_url: str) -> dict:
    """The device's view of an authentication request: its bubble's title, the reply shown
    after signing in, and where tapping it leads (the provider's authorization URL with the
    request's state, scope and redirect URI). Raises Refused."""
    interactive = body.get("interactiveData")
    try:
        data = interactive["data"]
        oauth2 = data["authenticate"]["oauth2"]
        request_identifier = str(uuid.UUID(data["requestIdentifier"]))
        title = interactive["receivedMessage"]["title"]
        reply = interactive["replyMessage"]["title"]
        query = {
            "response_type": oauth2["responseType"],
            "client_id": client_id,
            "scope": " ".join(oauth2["scope"]),
            "state": oauth2["state"],
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise Refused(400, "The body is not an authentication request.") from None
    if interactive.get("bid") != BALLOON_ID:
        raise Refused(400, "The interactive message names another extension (bid).")
    if "redirectURI" in oauth2:
        query["redirect_uri"] = oauth2["redirectURI"]
    return {
        "from": "business",
        "kind": "sign_in",
        "text": title,
        "reply": reply,
        "request_identifier": request_identifier,
        "authorize_url": f"{authorize_url}?{urlencode(query)}",
    }


# The device's conversation, shared by every server process


def _key(customer_id: str, suffix: str) -> str:
    return f"portal:apple:{customer_id}:{suffix}"


def record(customer_id: str, entry: dict) -> int:
    """Add an entry to the customer's conversation; return its number (1, 2, ...)."""
    counter = _key(customer_id, "count")
    number = count_up(counter, KEEP_SECONDS, renew=True)
    cache.set(_key(customer_id, str(number)), {**entry, "n": number}, KEEP_SECONDS)
    return number


def entries_after(customer_id: str, after: int) -> list[dict]:
    """The customer's conversation from entry `after + 1` on, oldest first."""
    last = cache.get(_key(customer_id, "count"), 0)
    keys = [_key(customer_id, str(number)) for number in range(max(after, 0) + 1, last + 1)]
    found = cache.get_many(keys)
    return [found[key] for key in keys if key in found]


# The simulated device


def inbound_jwt(*, now: float | None = None) -> str:
    """The token Apple's gateway sends the MSP: HS256, `aud` the MSP id."""
    issued = int(time.time() if now is None else now)
    claims = {"aud": msp_id(), "iat": issued, "exp": issued + INBOUND_TOKEN_SECONDS}
    return jwt.encode(claims, msp_secret(), algorithm=ALGORITHM)


def text_message(customer_id: str, business_id: str, text: str) -> dict:
    return {**envelope(customer_id, business_id, "text"), "body": text, "locale": "en_US"}


def sign_in_reply(customer_id: str, business_id: str, request_identifier: str, status: str) -> dict:
    """The device's answer to an authentication request: `authenticated` or a failure."""
    return {
        **envelope(customer_id, business_id, "interactive"),
        "interactiveData": {
            "bid": BALLOON_ID,
            "data": {
                "version": "1.0",
                "requestIdentifier": request_identifier,
                "authenticate": {"status": status},
            },
        },
    }


def envelope(customer_id: str, business_id: str, kind: str) -> dict:
    """The members every message from a customer's device starts with, under a new id."""
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "sourceId": customer_id,
        "destinationId": business_id,
        "v": 1,
    }


def send_to_platform(url: str, message: dict) -> None:
    """POST a device's message to the platform's `/apple/message` as Apple's gateway does:
    gzip JSON, the inbound JWT, the addressing headers and the device's capabilities. Raises
    fetch.FetchError."""
    fetch.post(
        url,
        gzip.compress(json.dumps(message).encode()),
        headers={
            "Authorization": f"Bearer {inbound_jwt()}",
            "id": message["id"],
            "source-id": message["sourceId"],
            "destination-id": message["destinationId"],
            "capability-list": CAPABILITIES,
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
