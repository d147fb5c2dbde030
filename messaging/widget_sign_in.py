"""The widget's code-flow sign-in endpoints (CONTRACT.md "Code-flow sign-in").

The widget calls them from customers' pages, so they are CSRF-exempt and answer CORS requests,
but only from origins the widget's deployments allow (the socket's rule). They take JSON
bodies only, are rate limited per client address with chat starts, and answer errors as
`{"code", "detail"}`: 400 (`bad_frame` for a malformed body, the token codes for what the
provider or the tokens said), 403 (origin), 404 (`not_found`: no such widget), 405, 415 and
429. Codes, tokens and secrets never appear in an answer or a log.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from authsettings import codeflow, oauth
from authsettings.tokens import TokenRefused
from contactcenter.lib.errors import Refused
from contactcenter.lib.strict_json import reject_constant
from messaging import customer_sessions, decisions, origins, ratelimits
from messaging.models import ChannelInstance

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
PREFLIGHT_MAX_AGE = 600
# Field lengths: RFC 7636 bounds the PKCE verifier; the others are generous caps.
MAX_CODE = 4096
MAX_REDIRECT_URI = 2048
MAX_NONCE = 512
MAX_REFRESH_TOKEN = 512
CODE_VERIFIER_LENGTHS = (43, 128)

Handler = Callable[[ChannelInstance, dict[str, Any]], dict[str, Any] | None]


class SignInRefused(Refused):
    """A request refused, answered with its HTTP status."""

    def __init__(self, status: int, code: str, detail: str):
        super().__init__(code, detail)
        self.status = status


def widget_auth_endpoint(handler: Handler) -> Callable[..., HttpResponse]:
    """Serve a handler(widget, body) -> answer (None: 204) as a cross-origin JSON endpoint."""

    @csrf_exempt
    @wraps(handler)
    def view(request: HttpRequest, widget_id) -> HttpResponse:
        if request.method not in ("POST", "OPTIONS"):
            response = error_response(SignInRefused(405, "bad_frame", "Use POST with a JSON body."))
            response["Allow"] = "POST, OPTIONS"
            return uncached(response)
        try:
            widget = admit(request, widget_id)
        except SignInRefused as refused:
            return uncached(error_response(refused))
        response = preflight() if request.method == "OPTIONS" else answer(handler, request, widget)
        if "Origin" in request.headers:
            # The origin was admitted: let the page read the answer.
            response["Access-Control-Allow-Origin"] = request.headers["Origin"]
        response["Vary"] = "Origin"
        return uncached(response)

    return view


def answer(handler: Handler, request: HttpRequest, widget: ChannelInstance) -> HttpResponse:
    """Run a handler on the request's body, once the client address is under its limit."""
    try:
        # REMOTE_ADDR is the visitor's: contactcenter.middleware took it from a trusted proxy.
        address = request.META.get("REMOTE_ADDR", "unknown")
        with decisions.judging(handler.__name__, widget, origin=request.headers.get("Origin")):
            if not ratelimits.allow_start(address, settings.CC_WIDGET_STARTS_PER_MINUTE):
                raise SignInRefused(
                    429, "rate_limited", "Too many sign-ins from here; wait a minute."
                )
            result = handler(widget, json_body(request))
    except SignInRefused as refused:
        return error_response(refused)
    except TokenRefused as error:
        logger.info(
            "Sign-in to widget %s refused: %s (%s)", widget.widget_id, error.code, error.detail
        )
        return error_response(SignInRefused(400, error.code, error.detail))
    return HttpResponse(status=204) if result is None else JsonResponse(result)


@widget_auth_endpoint
def exchange(widget: ChannelInstance, body: dict[str, Any]) -> dict[str, Any]:
    grant = oauth.Grant(
        code=text(body, "code", MAX_CODE),
        redirect_uri=text(body, "redirect_uri", MAX_REDIRECT_URI),
        code_verifier=code_verifier(body),
        nonce=optional_text(body, "nonce", MAX_NONCE),
    )
    pair = codeflow.exchange(
        widget.authentication_setting, str(widget.widget_id), grant, now=time.time()
    )
    return asdict(pair)


@widget_auth_endpoint
def refresh(widget: ChannelInstance, body: dict[str, Any]) -> dict[str, Any]:
    pair = codeflow.refresh(
        widget.authentication_setting,
        str(widget.widget_id),
        text(body, "refresh_token", MAX_REFRESH_TOKEN),
        now=time.time(),
    )
    return asdict(pair)


@widget_auth_endpoint
def logout(widget: ChannelInstance, body: dict[str, Any]) -> None:
    customer_sessions.sign_out(
        widget, text(body, "refresh_token", MAX_REFRESH_TOKEN), now=time.time()
    )


# Steps


def admit(request: HttpRequest, widget_id) -> ChannelInstance:
    """The widget, once the page's origin may use it: a native app, which sends no Origin,
    where one of the widget's active deployments allows mobile apps. Raises SignInRefused
    (404, 403), or Django's DisallowedHost (400) for a Host not in ALLOWED_HOSTS."""
    widget = ChannelInstance.find_widget(widget_id)
    if widget is None:
        raise SignInRefused(404, "not_found", "No chat widget has this id.")
    deployments = origins.deployment_domains(widget)
    request.get_host()  # a foreign Host is refused whatever the origin
    if "Origin" not in request.headers and any(
        d.allow_mobile_apps and d.active for d in deployments
    ):
        return widget
    try:
        origins.check_origin(
            request.headers.get("Origin"),
            own=origins.own_origin(request.scheme, request.get_host()),
            deployments=deployments,
        )
    except origins.OriginRefused as refused:
        raise SignInRefused(403, refused.code, refused.detail) from None
    return widget


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object. Raises SignInRefused (415, or 400 `bad_frame`)."""
    if request.content_type != "application/json":
        raise SignInRefused(
            415, "bad_frame", "Send a JSON body with Content-Type: application/json."
        )
    too_large = SignInRefused(400, "bad_frame", f"The body is at most {MAX_BODY_BYTES} bytes.")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    # The declared length spares reading an oversized body; the read one covers chunked ones.
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise too_large
    if len(request.body) > MAX_BODY_BYTES:
        raise too_large
    try:
        body = json.loads(request.body, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        raise SignInRefused(400, "bad_frame", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise SignInRefused(400, "bad_frame", "The body is a JSON object.")
    return body


def text(body: dict[str, Any], name: str, max_length: int) -> str:
    """A string member of 1 to max_length characters. Raises SignInRefused (`bad_frame`)."""
    value = body.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        raise SignInRefused(
            400, "bad_frame", f"{name} is a string of 1 to {max_length} characters."
        )
    return value


def optional_text(body: dict[str, Any], name: str, max_length: int) -> str | None:
    """Like text(), but an absent or null member is None."""
    return None if body.get(name) is None else text(body, name, max_length)


def code_verifier(body: dict[str, Any]) -> str | None:
    shortest, longest = CODE_VERIFIER_LENGTHS
    verifier = optional_text(body, "code_verifier", longest)
    if verifier is not None and len(verifier) < shortest:
        raise SignInRefused(
            400, "bad_frame", f"code_verifier is {shortest} to {longest} characters (RFC 7636)."
        )
    return verifier


def error_response(refused: SignInRefused) -> JsonResponse:
    return JsonResponse({"code": refused.code, "detail": refused.detail}, status=refused.status)


def preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "POST"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    return response


def uncached(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
