"""The OpenID Connect flow's callback page, `GET /apple/auth/<setting id>/callback`: where the
provider sends the Apple customer's browser back with a code."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from messaging import conversations
from messaging.apple.authentication import SignInFailed

SIGNED_IN = "Signed in; return to Messages"


@require_GET
def callback(request: HttpRequest, setting_id: int) -> HttpResponse:
    """Where the provider sends the customer back (`GET ?code=...&state=...`)."""
    try:
        conversations.finish_openid_sign_in(
            setting_id,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            error=request.GET.get("error", ""),
        )
    except SignInFailed as failure:
        return page(request, failure.detail, status=failure.status)
    return page(request, SIGNED_IN, status=200)


def page(request: HttpRequest, text: str, *, status: int) -> TemplateResponse:
    return TemplateResponse(
        request, "apple/signed_in.html", {"text": text, "signed_in": status == 200}, status=status
    )
