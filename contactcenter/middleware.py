"""Requests as the client made them, when a trusted reverse proxy stands between."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

from contactcenter import proxies


def believe_trusted_proxy(request: HttpRequest) -> None:
    """Take the client's address and scheme from `X-Forwarded-For` / `X-Forwarded-Proto` when
    the peer is in CC_TRUSTED_PROXIES, as the server would have seen them without the proxy.

    Both headers are removed either way, so nothing later (rate limits, sign-in lockouts,
    https redirects) can read a value a visitor chose.
    """
    meta = request.META
    peer = meta.get("REMOTE_ADDR")
    forwarded_for = meta.pop("HTTP_X_FORWARDED_FOR", None)
    scheme = proxies.forwarded_scheme(peer, meta.pop("HTTP_X_FORWARDED_PROTO", None))
    meta["REMOTE_ADDR"] = proxies.client_address(peer, forwarded_for)
    if scheme:
        # Where Django reads the scheme the server saw: the ASGI scope, or the WSGI
        # environment (the test client).
        if scope := getattr(request, "scope", None):
            scope["scheme"] = scheme
        meta["wsgi.url_scheme"] = scheme


@sync_and_async_middleware
def trusted_proxy_middleware(
    get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]],
):
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest):
            believe_trusted_proxy(request)
            return await get_response(request)

    else:

        def middleware(request: HttpRequest):
            believe_trusted_proxy(request)
            return get_response(request)

    return middleware
