"""Code-flow sign-ins to a chat widget and the platform's session tokens for them, at chosen
times, as an exchange at /widget/<widget_id>/auth/exchange leaves them."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import jwt
from django.utils import timezone

from authsettings import sessions
from authsettings.models import WidgetSignIn


def sign_in(widget, subject: str) -> WidgetSignIn:
    """A live sign-in of `subject` to the widget, for a day."""
    return WidgetSignIn.objects.create(
        setting=widget.authentication_setting,
        widget_id=widget.widget_id,
        subject=subject,
        refresh_selector=secrets.token_urlsafe(16),
        refresh_hash="unused",
        expires_at=timezone.now() + timedelta(days=1),
    )


def session_token(widget, subject: str, *, issued_ago: float = 0) -> str:
    """A session token of a new sign-in, issued `issued_ago` seconds ago (it lasts
    sessions.SESSION_SECONDS from then)."""
    token, _ = sessions.issue(sign_in(widget, subject), now=time.time() - issued_ago)
    return token


def expiry_of(token: str) -> datetime:
    return datetime.fromtimestamp(
        jwt.decode(token, options={"verify_signature": False})["exp"], UTC
    )
