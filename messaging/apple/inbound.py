"""`POST /apple/message`: what Apple's gateway sends from customers (CONTRACT.md "Inbound").

Nothing is trusted before the JWT is: the answers are 503 (MSP not configured), 401 (no
bearer token), 403 (not Apple's token), 400 (headers or body malformed), 404 (unknown
business), 413 (over 1 MiB once decompressed) and 200 once handled. A gzip body is inflated
a piece at a time and given up as soon as it passes the limit, so a small bomb costs little.
"""

from __future__ import annotations

import json
import uuid
import zlib

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contactcenter import metrics
from contactcenter.lib.identifiers import is_uuid
from contactcenter.lib.strict_json import DuplicateMember, reject_constant, without_duplicates
from messaging import actions, conversations
from messaging.apple import msp
from messaging.models import ChannelInstance

MAX_BODY_BYTES = 1024 * 1024
CHUNK_BYTES = 64 * 1024
MAX_ID_CHARACTERS = 255
# Apple retries a message answered 503 later; a conversation no queue takes now may be taken
# then.
RETRY_AFTER_SECONDS = "30"


class Refusal(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@csrf_exempt
@require_POST
@metrics.counted(metrics.APPLE_MESSAGES, metrics.answer_code, direction="in")
def receive(request: HttpRequest) -> JsonResponse:
    try:
        channel_instance, inbound = read(request)
        conversations.receive_apple_message(channel_instance, inbound)
    except Refusal as refusal:
        return answer(refusal.status, refusal.code, refusal.detail)
    except conversations.InboundRefused as refusal:
        return answer(400, refusal.code, refusal.detail)
    except actions.ActionRefused as refusal:
        response = answer(503, refusal.code, refusal.detail)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    return JsonResponse({"status": "ok"})


def answer(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def read(request: HttpRequest) -> tuple[ChannelInstance, conversations.AppleInbound]:
    """The channel instance and the message, checked in the contract's order. Raises
    Refusal."""
    if not msp.is_configured():
        raise Refusal(503, "not_configured", "Apple Messages for Business is not set up here.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refusal(401, "token_missing", "Send Apple's JWT as a bearer token.")
    try:
        msp.verify_apple_jwt(token.strip())
    except msp.AppleTokenRefused as refusal:
        raise Refusal(403, "token_invalid", f"The JWT is not accepted: {refusal}") from None
    message_id = request.headers.get("id", "")
    customer_id = request.headers.get("source-id", "")
    business_id = request.headers.get("destination-id", "")
    if not is_uuid(message_id):
        raise Refusal(400, "bad_headers", "The id header must be the message's UUID.")
    if not 1 <= len(customer_id) <= MAX_ID_CHARACTERS or not customer_id.isprintable():
        raise Refusal(400, "bad_headers", "The source-id header must name the customer.")
    if not business_id:
        raise Refusal(400, "bad_headers", "The destination-id header must name the business.")
    channel_instance = ChannelInstance.find_apple(business_id)
    if channel_instance is None:
        raise Refusal(404, "unknown_business", "No channel has this destination-id.")
    capabilities = request.headers.get("capability-list")
    if capabilities is not None:
        capabilities = ",".join(p.strip() for p in capabilities.split(",") if p.strip())[:500]
    body = parse(read_body(request))
    return channel_instance, conversations.AppleInbound(
        message_id=str(uuid.UUID(message_id)),
        customer_id=customer_id,
        capabilities=capabilities,
        body=body,
    )


TOO_LARGE = Refusal(413, "too_large", f"A message is at most {MAX_BODY_BYTES // 1024} KiB.")


def read_body(request: HttpRequest) -> bytes:
    """The body, inflated when gzip, at most MAX_BODY_BYTES. Raises Refusal."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("gzip", "identity", ""):
        raise Refusal(400, "bad_body", "Send the body plain or gzip-compressed.")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    body = bytearray()
    read = 0
    while chunk := request.read(CHUNK_BYTES):
        read += len(chunk)
        if inflater is None:
            body += chunk
        else:
            try:
                # Never more than one byte past the limit, however much a piece inflates to.
                body += inflater.decompress(chunk, MAX_BODY_BYTES + 1 - len(body))
            except zlib.error:
                raise Refusal(400, "bad_body", "The gzip body is corrupt.") from None
        if len(body) > MAX_BODY_BYTES or read > MAX_BODY_BYTES:
            raise TOO_LARGE
    if inflater is not None:
        if not inflater.eof:
            raise Refusal(400, "bad_body", "The gzip body is cut short.")
        if inflater.unconsumed_tail:
            raise TOO_LARGE
    return bytes(body)


def parse(body: bytes) -> dict:
    try:
        value = json.loads(
            body.decode("utf-8"),
            parse_constant=reject_constant,
            object_pairs_hook=without_duplicates,
        )
    except (UnicodeDecodeError, ValueError, RecursionError, DuplicateMember):
        raise Refusal(400, "bad_body", "The body must be a JSON object.") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise Refusal(400, "bad_body", 'The body must be a JSON object with a "type".')
    return value
