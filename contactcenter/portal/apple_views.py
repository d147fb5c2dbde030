"""Apple's side of the demo: the gateway stand-in the platform sends to
(`CC_APPLE_GATEWAY_URL=<base>/portal/apple/gateway`), and the Messages page, a simulated device
whose customer (one per browser session) writes to the platform's `/apple/message`."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from contactcenter.lib.fetch import FetchError
from contactcenter.portal import apple
from messaging.apple import msp
from messaging.domains import platform_url
from messaging.models import ChannelInstance

# The simulated device's customer id lives in a signed cookie of its own, not in the session:
# signing in at the provider in the popup renews the session's key, and a poll still carrying
# the old one would find an empty session (Django then drops the cookie, or a new customer id
# would be saved over the signed-in session), and the device would lose its conversation.
DEVICE_COOKIE = "portal_apple_device"
DEVICE_COOKIE_SALT = "contactcenter.portal.apple.device"
MAX_TEXT = 5000
SIGN_IN_STATUSES = ("authenticated", "failure")


def refused(error: apple.Refused) -> JsonResponse:
    return JsonResponse({"detail": error.detail}, status=error.status)


def apple_channels():
    return ChannelInstance.objects.filter(kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS)


# The gateway stand-in


@csrf_exempt
@require_POST
def gateway_message(request):
    """Apple's `/message`: a text from the business to its customer."""
    try:
        body = _gateway_body(request, kind="text")
        customer_id = apple.check_addressing(request.headers, body, kind="text")
        apple.record(customer_id, apple.received_text(body))
    except apple.Refused as error:
        return refused(error)
    return JsonResponse({"id": body["id"]})


@csrf_exempt
@require_POST
def gateway_authenticate(request):
    """Apple's `/authenticate`: a sign-in request, shown as a bubble that leads to the provider
    of the business's authentication setting."""
    try:
        body = _gateway_body(request, kind="interactive")
        customer_id = apple.check_addressing(request.headers, body, kind="interactive")
        channel = (
            apple_channels()
            .select_related("authentication_setting")
            .filter(business_id=body["sourceId"], authentication_setting__isnull=False)
            .first()
        )
        if channel is None:
            raise apple.Refused(404, "No business with this source-id signs customers in.")
        entry = apple.received_sign_in(
            body,
            client_id=channel.authentication_setting.client_id,
            authorize_url=reverse("oauth2_provider:authorize"),
        )
        apple.record(customer_id, entry)
    except apple.Refused as error:
        return refused(error)
    return JsonResponse({"id": body["id"]})


def _gateway_body(request, *, kind: str) -> dict:
    apple.verify_platform_jwt(request.headers.get("Authorization", ""))
    if request.content_type != "application/json":
        raise apple.Refused(415, "Send the body as application/json.")
    return apple.read_body(request.body, request.headers.get("Content-Encoding", ""))


# The Messages page


def customer_of(request) -> str | None:
    """The customer id the Messages page gave this browser, or None."""
    return request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT)


def known_customer(request) -> str:
    """customer_of, or Refused when this browser never loaded the page."""
    customer_id = customer_of(request)
    if customer_id is None:
        raise apple.Refused(409, "Reload the page: this browser has no conversation yet.")
    return customer_id


@never_cache
@require_GET
def messages_page(request):
    channel = apple_channels().exclude(business_id="").order_by("-created_at", "-id").first()
    customer_id = customer_of(request) or apple.new_customer_id()
    response = render(
        request,
        "portal/apple.html",
        {
            "channel": channel,
            "configured": msp.is_configured(),
            "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
            "customer_id": customer_id,
        },
    )
    response.set_signed_cookie(
        DEVICE_COOKIE,
        customer_id,
        salt=DEVICE_COOKIE_SALT,
        max_age=apple.KEEP_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


@never_cache
@require_GET
def messages_since(request):
    """The device's conversation after entry `?after=`: {"entries": [...]}."""
    try:
        after = int(request.GET.get("after", "0"))
    except ValueError:
        return JsonResponse({"detail": "after must be a whole number."}, status=400)
    customer_id = customer_of(request)
    entries = apple.entries_after(customer_id, after) if customer_id else []
    return JsonResponse({"entries": entries})


@require_POST
def send_text(request):
    """The customer writes: {"text"} goes to the platform as Apple would deliver it."""
    try:
        fields = _page_fields(request)
        text = fields.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise apple.Refused(400, f"Write 1 to {MAX_TEXT} characters.")
        customer_id = known_customer(request)
        business_id = _business_id(fields)
        _deliver(request, apple.text_message(customer_id, business_id, text))
    except apple.Refused as error:
        return refused(error)
    entry = {"from": "customer", "kind": "text", "text": text}
    return JsonResponse({"n": apple.record(customer_id, entry)})


@require_POST
def send_sign_in_reply(request):
    """The device's answer once the provider sent the customer back:
    {"request_identifier", "status": "authenticated" | "failure"}."""
    try:
        fields = _page_fields(request)
        status = fields.get("status")
        if status not in SIGN_IN_STATUSES:
            raise apple.Refused(400, f"status is one of {', '.join(SIGN_IN_STATUSES)}.")
        customer_id = known_customer(request)
        request_identifier = fields.get("request_identifier")
        sign_in = next(
            (
                entry
                for entry in apple.entries_after(customer_id, 0)
                if entry["kind"] == "sign_in" and entry["request_identifier"] == request_identifier
            ),
            None,
        )
        if sign_in is None:
            raise apple.Refused(404, "This device received no such sign-in request.")
        business_id = _business_id(fields)
        reply = apple.sign_in_reply(customer_id, business_id, request_identifier, status)
        _deliver(request, reply)
    except apple.Refused as error:
        return refused(error)
    if status != "authenticated":
        return JsonResponse({"n": None})
    entry = {"from": "customer", "kind": "text", "text": sign_in["reply"]}
    return JsonResponse({"n": apple.record(customer_id, entry)})


def _page_fields(request) -> dict:
    try:
        fields = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        fields = None
    if not isinstance(fields, dict):
        raise apple.Refused(400, "Send a JSON object.")
    return fields


def _business_id(fields: dict) -> str:
    business_id = fields.get("business_id")
    if (
        not isinstance(business_id, str)
        or not apple_channels().filter(business_id=business_id).exclude(business_id="").exists()
    ):
        raise apple.Refused(404, "No Apple channel has this business id: run manage.py demo.")
    return business_id


def _deliver(request, message: dict) -> None:
    if not msp.is_configured():
        raise apple.Refused(503, "Set CC_APPLE_MSP_ID and CC_APPLE_MSP_SECRET (make run does).")
    try:
        apple.send_to_platform(platform_url(request) + "/apple/message", message)
    except FetchError as error:
        raise apple.Refused(502, f"The platform did not take the message: {error}") from None
