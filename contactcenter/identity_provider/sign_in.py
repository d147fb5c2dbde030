"""Throttled sign-ins. django-axes locks the sign-in forms (admin, agent console, portal) for
a username from an address after too many failures; the token endpoint (/o/token/) refuses an
address that failed too often, with 429 and Retry-After."""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from functools import wraps

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from contactcenter.lib.shared_cache import cache, count_up


def client_address(request: HttpRequest) -> str | None:
    """The visitor's address, as contactcenter.middleware set it from a trusted proxy; None
    for a request from no address (a sign-in made in code, a peer on a Unix socket), which
    axes stores as such."""
    address = request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


class RequestSignInBackend(AxesStandaloneBackend):
    """axes' lockout check for sign-ins made through a request. One made in code without a
    request (the test client's login(), a shell) comes from no address and is not counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


def throttled_token_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The token endpoint, counting refused requests per address in windows of
    AXES_COOLOFF_TIME; past AXES_FAILURE_LIMIT in a window, it answers 429.

    Failures are not counted per client id: client ids are not secret, so anyone could lock
    a client out by naming it, and a client secret is too long to guess anyway. Nor per
    client id and address: that count can never pass the address's own."""
    window_seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())

    @wraps(view)
    def throttled(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        now = time.time()
        window = int(now // window_seconds)
        key = f"token-failures:address:{client_address(request) or 'unknown'}:{window}"
        if cache.get(key, 0) >= settings.AXES_FAILURE_LIMIT:
            retry_after = math.ceil((window + 1) * window_seconds - now)
            response = JsonResponse(
                {
                    "error": "temporarily_unavailable",
                    "error_description": "Too many failed token requests: "
                    f"try again in {retry_after} seconds.",
                },
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        response = view(request, *args, **kwargs)
        if response.status_code in (400, 401):
            count_up(key, window_seconds)
        return response

    return throttled
