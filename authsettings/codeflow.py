"""Code-flow sign-in to a chat widget (CONTRACT.md "Code-flow sign-in"): an authorization
code in, a platform session token and a refresh token out; refresh rotates, logout revokes.

Refresh tokens are `<selector>.<generation>.<secret>`: the selector finds the sign-in, and the
secret is a keyed hash of selector and generation, so the platform tells a token it issued from
a guess without storing old secrets (only a hash of the current one is kept). A refresh moves
to the next generation, so the old token stops working; presenting a replaced one again means
it was copied, and revokes the sign-in (RFC 9700 4.14.2). A wrong secret revokes nothing: only
the whole token speaks for the sign-in. A sign-in lasts the setting's
max_refresh_token_lifetime_seconds from its start, refreshed or not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils.crypto import salted_hmac

from authsettings import oauth, oidc, sessions, token_actions, tokens
from authsettings.models import AuthenticationSetting, WidgetSignIn
from authsettings.tokens import MAX_SUBJECT_LENGTH, TokenRefused

SELECTOR_BYTES = 16
REFRESH_TOKEN = re.compile(r"([A-Za-z0-9_-]{16,64})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})")
SECRET_SALT = "authsettings.codeflow.refresh_token"  # noqa: S105 (a salt, not a secret)


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

    Raises TokenRefused: `bad_frame` for a redirect URI the setting does not use, the
    provider's failures (see oidc, oauth and the token action), the id token's codes.
    """
    setting = _code_flow(setting)
    if setting.redirect_url and grant.redirect_uri != setting.redirect_url:
        raise TokenRefused(
            "bad_frame", "redirect_uri is not the redirect URL of the authentication setting."
        )
    subject = _check_subject(_subject_for(setting, grant, now))
    selector = secrets.token_urlsafe(SELECTOR_BYTES)
    token = _refresh_token(selector, 0)
    with transaction.atomic():
        sign_in = WidgetSignIn.objects.create(
            setting=setting,
            widget_id=widget_id,
            subject=subject,
            refresh_selector=selector,
            refresh_hash=_hash(token),
            expires_at=_moment(now) + timedelta(seconds=setting.max_refresh_token_lifetime_seconds),
        )
    return _pair(sign_in, token, now)


def refresh(
    setting: AuthenticationSetting | None, widget_id: str, refresh_token: str, *, now: float
) -> SessionPair:
    """A new session token and refresh token for a sign-in; the old refresh token stops
    working.

    Raises TokenRefused: `token_invalid` (no such sign-in for this widget and setting, or a
    secret the platform never issued), `token_revoked` (revoked, or a replaced refresh token
    was used: that revokes it), `token_expired` (the sign-in has lasted its maximum).
    """
    setting = _code_flow(setting)
    selector, generation = _issued(refresh_token)
    with transaction.atomic():
        sign_in = (
            WidgetSignIn.objects.select_for_update()
            .filter(refresh_selector=selector, widget_id=widget_id, setting=setting)
            .first()
        )
        if sign_in is None:
            raise TokenRefused("token_invalid", "No sign-in has this refresh token; sign in again.")
        if sign_in.revoked_at is not None:
            raise TokenRefused("token_revoked", "This sign-in has ended; sign in again.")
        if sign_in.expires_at <= _moment(now):
            raise TokenRefused(
                "token_expired", "The sign-in has lasted as long as it may; sign in again."
            )
        fresh = None
        if hmac.compare_digest(sign_in.refresh_hash, _hash(refresh_token)):
            fresh = _refresh_token(selector, generation + 1)
            sign_in.refresh_hash = _hash(fresh)
            sign_in.save(update_fields=["refresh_hash", "modified_at"])
        else:
            _revoke(sign_in, WidgetSignIn.RevokedReason.REUSE, now)
    if fresh is None:
        # Raised once the revocation is committed.
        raise TokenRefused(
            "token_revoked",
            "This refresh token was already used, so it may have been copied; the sign-in is "
            "revoked. Sign in again.",
        )
    return _pair(sign_in, fresh, now)


def logout(widget_id: str, refresh_token: str, *, now: float) -> WidgetSignIn | None:
    """Revoke the sign-in a refresh token (current or replaced) belongs to, and return it. A
    token that names no live sign-in of the widget, or that the platform never issued, is
    ignored (None), as RFC 7009 revocation does."""
    try:
        selector, _ = _issued(refresh_token)
    except TokenRefused:
        return None
    with transaction.atomic():
        sign_in = (
            WidgetSignIn.objects.select_for_update()
            .filter(refresh_selector=selector, widget_id=widget_id, revoked_at__isnull=True)
            .first()
        )
        if sign_in is not None:
            _revoke(sign_in, WidgetSignIn.RevokedReason.LOGOUT, now)
    return sign_in


def _code_flow(setting: AuthenticationSetting | None) -> AuthenticationSetting:
    if setting is None:
        raise TokenRefused("token_invalid", "This chat has no authentication setting.")
    if setting.authentication_type not in AuthenticationSetting.CODE_FLOWS:
        raise TokenRefused(
            "token_invalid",
            f"This chat signs in with {setting.get_authentication_type_display()}, not a code "
            "flow; send its token in the start frame.",
        )
    return setting


def _subject_for(setting: AuthenticationSetting, grant: oauth.Grant, now: float) -> str:
    """Who signed in, as the provider tells it. Raises TokenRefused."""
    if setting.authentication_type == AuthenticationSetting.Type.OPENID_CONNECT:
        provider = oidc.discover(setting.discovery_uri, now=now)
        client = oauth.Client(setting.client_id, setting.client_secret, provider.client_auth_method)
        response = oauth.redeem_code(provider.token_endpoint, client, grant)
        id_token = response.get("id_token")
        if not isinstance(id_token, str):
            raise TokenRefused(
                "token_invalid", "The token response has no id_token; ask for the openid scope."
            )
        return oidc.validate_id_token(
            id_token, provider, client_id=setting.client_id, nonce=grant.nonce, now=now
        ).sub
    client = oauth.Client(setting.client_id, setting.client_secret)
    response = oauth.redeem_code(setting.token_url, client, grant)
    return token_actions.resolve(setting.token_custom_action)(setting, response)


def _check_subject(subject: object) -> str:
    """Raises TokenRefused (`claims_invalid`) unless the user id is fit for a conversation."""
    if not tokens.is_subject(subject):
        raise TokenRefused(
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


def _refresh_token(selector: str, generation: int) -> str:
    return f"{selector}.{generation}.{_secret(selector, generation)}"


def _secret(selector: str, generation: int) -> str:
    digest = salted_hmac(SECRET_SALT, f"{selector}.{generation}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _issued(refresh_token: str) -> tuple[str, int]:
    """The selector and generation of a refresh token the platform issued, current or
    replaced. Raises TokenRefused (`token_invalid`) for anything else."""
    match = REFRESH_TOKEN.fullmatch(refresh_token)
    if match is None:
        raise TokenRefused("token_invalid", "This is not a refresh token of the platform.")
    selector, generation, secret = match.group(1), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(secret, _secret(selector, generation)):
        raise TokenRefused("token_invalid", "No sign-in has this refresh token; sign in again.")
    return selector, generation


def _hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _moment(now: float) -> datetime:
    return datetime.fromtimestamp(now, tz=UTC)
