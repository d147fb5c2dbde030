"""Code-flow sign-in to a chat widget (CONTRACT.md "Code-flow sign-in"): an authorization
code in, a platform session token and a refresh token out; refresh rotates, logout revokes.

Refresh tokens are `<selector>.<secret>`: the selector finds the sign-in, only a hash of the
secret is stored. A refresh replaces the secret, so the old token stops working; presenting a
replaced one again means it was copied, and revokes the sign-in (RFC 9700 4.14.2). A sign-in
lasts the setting's max_refresh_token_lifetime_seconds from its start, refreshed or not.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from authsettings import oauth, oidc, sessions, token_actions
from authsettings.models import AuthenticationSetting, WidgetSignIn
from authsettings.tokens import MAX_SUBJECT_LENGTH, TokenError

SELECTOR_BYTES = 16
SECRET_BYTES = 32
REFRESH_TOKEN = re.compile(r"([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{32,128})")


@dataclass(frozen=True)
class SessionPair:
    session_token: str
    expires_in: int
    refresh_token: str


def exchange(
    setting: AuthenticationSetting | None, widget_id: str, grant: oauth.Grant, *, now: float
) -> SessionPair:
    """Redeem an authorization code with the setting's provider, learn who signed in, and
    start a sign-in to the widget at `now` (Unix seconds).

    Raises TokenError: `bad_frame` for a redirect URI the setting does not use, the
    provider's failures (see oidc, oauth and the token action), the id token's codes.
    """
    setting = _code_flow(setting)
    if setting.redirect_url and grant.redirect_uri != setting.redirect_url:
        raise TokenError(
            "bad_frame", "redirect_uri is not the redirect URL of the authentication setting."
        )
    subject = _check_subject(_subject_for(setting, grant, now))
    selector, secret = secrets.token_urlsafe(SELECTOR_BYTES), secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        sign_in = WidgetSignIn.objects.create(
            setting=setting,
            widget_id=widget_id,
            subject=subject,
            refresh_selector=selector,
            refresh_hash=_hash(secret),
            expires_at=_moment(now) + timedelta(seconds=setting.max_refresh_token_lifetime_seconds),
        )
    return _pair(sign_in, f"{selector}.{secret}", now)


def refresh(
    setting: AuthenticationSetting | None, widget_id: str, refresh_token: str, *, now: float
) -> SessionPair:
    """A new session token and refresh token for a sign-in; the old refresh token stops
    working.

    Raises TokenError: `token_invalid` (no such sign-in for this widget and setting),
    `token_revoked` (revoked, or a replaced refresh token was used: that revokes it),
    `token_expired` (the sign-in has lasted its maximum).
    """
    setting = _code_flow(setting)
    selector, secret = _split_refresh_token(refresh_token)
    with transaction.atomic():
        sign_in = (
            WidgetSignIn.objects.select_for_update()
            .filter(refresh_selector=selector, widget_id=widget_id, setting=setting)
            .first()
        )
        if sign_in is None:
            raise TokenError("token_invalid", "No sign-in has this refresh token; sign in again.")
        if sign_in.revoked_at is not None:
            raise TokenError("token_revoked", "This sign-in has ended; sign in again.")
        if sign_in.expires_at <= _moment(now):
            raise TokenError(
                "token_expired", "The sign-in has lasted as long as it may; sign in again."
            )
        fresh = None
        if hmac.compare_digest(sign_in.refresh_hash, _hash(secret)):
            fresh = secrets.token_urlsafe(SECRET_BYTES)
            sign_in.refresh_hash = _hash(fresh)
            sign_in.save(update_fields=["refresh_hash", "modified_at"])
        else:
            _revoke(sign_in, WidgetSignIn.RevokedReason.REUSE, now)
    if fresh is None:
        # Raised once the revocation is committed.
        raise TokenError(
            "token_revoked",
            "This refresh token was already used, so it may have been copied; the sign-in is "
            "revoked. Sign in again.",
        )
    return _pair(sign_in, f"{selector}.{fresh}", now)


def logout(widget_id: str, refresh_token: str, *, now: float) -> None:
    """Revoke the sign-in a refresh token (current or replaced) belongs to. A token that
    names no sign-in of the widget is ignored, as RFC 7009 revocation does."""
    try:
        selector, _ = _split_refresh_token(refresh_token)
    except TokenError:
        return
    with transaction.atomic():
        sign_in = (
            WidgetSignIn.objects.select_for_update()
            .filter(refresh_selector=selector, widget_id=widget_id, revoked_at__isnull=True)
            .first()
        )
        if sign_in is not None:
            _revoke(sign_in, WidgetSignIn.RevokedReason.LOGOUT, now)


def _code_flow(setting: AuthenticationSetting | None) -> AuthenticationSetting:
    if setting is None:
        raise TokenError("token_invalid", "This chat has no authentication setting.")
    if setting.authentication_type not in AuthenticationSetting.REFRESHING_TYPES:
        raise TokenError(
            "token_invalid",
            f"This chat signs in with {setting.get_authentication_type_display()}, not a code "
            "flow; send its token in the start frame.",
        )
    return setting


def _subject_for(setting: AuthenticationSetting, grant: oauth.Grant, now: float) -> str:
    """Who signed in, as the provider tells it. Raises TokenError."""
    if setting.authentication_type == AuthenticationSetting.Type.OPENID_CONNECT:
        provider = oidc.discover(setting.discovery_uri, now=now)
        client = oauth.Client(setting.client_id, setting.client_secret, provider.client_auth_method)
        response = oauth.redeem_code(provider.token_endpoint, client, grant)
        id_token = response.get("id_token")
        if not isinstance(id_token, str):
            raise TokenError(
                "token_invalid", "The token response has no id_token; ask for the openid scope."
            )
        return oidc.validate_id_token(
            id_token, provider, client_id=setting.client_id, nonce=grant.nonce, now=now
        ).sub
    client = oauth.Client(setting.client_id, setting.client_secret)
    response = oauth.redeem_code(setting.token_url, client, grant)
    return token_actions.resolve(setting.token_custom_action)(setting, response)


def _check_subject(subject: object) -> str:
    """Raises TokenError (`claims_invalid`) unless the user id is fit for a conversation."""
    if (
        not isinstance(subject, str)
        or not 1 <= len(subject) <= MAX_SUBJECT_LENGTH
        or any(unicodedata.category(c) in ("Cc", "Cs") for c in subject)
    ):
        raise TokenError(
            "claims_invalid",
            f"The user id must be a string of 1 to {MAX_SUBJECT_LENGTH} characters without "
            "control characters.",
        )
    return subject


def _pair(sign_in: WidgetSignIn, refresh_token: str, now: float) -> SessionPair:
    session_token, expires_in = sessions.issue(sign_in, now=now)
    return SessionPair(session_token, expires_in, refresh_token)


def _revoke(sign_in: WidgetSignIn, reason: str, now: float) -> None:
    sign_in.revoked_at = _moment(now)
    sign_in.revoked_reason = reason
    sign_in.save(update_fields=["revoked_at", "revoked_reason", "modified_at"])


def _split_refresh_token(refresh_token: str) -> tuple[str, str]:
    """Raises TokenError (`token_invalid`) unless the token has a refresh token's form."""
    match = REFRESH_TOKEN.fullmatch(refresh_token)
    if match is None:
        raise TokenError("token_invalid", "This is not a refresh token of the platform.")
    return match.group(1), match.group(2)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _moment(now: float) -> datetime:
    return datetime.fromtimestamp(now, tz=UTC)
