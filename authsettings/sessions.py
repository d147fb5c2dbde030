"""The platform's own session tokens for code-flow sign-ins (CONTRACT.md "Code-flow sign-in").

A session token is a short-lived RS256 JWT signed with the platform's OpenID Connect key (the
one /o/.well-known/jwks.json publishes, under the same kid), explicitly typed so that an id
token of the platform's own provider is never taken for one (RFC 8725 3.11). Its claims: iss
ISSUER, aud the widget id, sub, iat, exp (at most SESSION_SECONDS later, never past the
sign-in's end), jti, and sid, the sign-in's session id, through which a revoked sign-in's
tokens stop working at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwcrypto import jwk

from authsettings import keys, tokens
from authsettings.models import AuthenticationSetting, WidgetSignIn
from authsettings.tokens import TokenRefused

SESSION_SECONDS = 300
ISSUER = "urn:contactcenter:widget-session"
TYPE = "widget-session+jwt"


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str
    entry: keys.KeyEntry  # the public half, as tokens verify with it


def signing_key() -> SigningKey:
    """The platform's OpenID Connect key and its kid (the RFC 7638 thumbprint, as DOT's)."""
    return _load_key(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])


@lru_cache(maxsize=4)
def _load_key(pem: str) -> SigningKey:
    private_key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise TypeError("OIDC_RSA_PRIVATE_KEY is not an RSA private key")
    kid = jwk.JWK.from_pem(pem.encode("ascii")).thumbprint()
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    entry = keys.KeyEntry(
        keys.JWKS, kid=kid, key_size=private_key.key_size, pem=public_pem.decode()
    )
    return SigningKey(private_key, kid, entry)


def issue(sign_in: WidgetSignIn, *, now: float) -> tuple[str, int]:
    """A session token for a sign-in at `now` (Unix seconds), and its lifetime in seconds."""
    issued_at = int(now)
    expires = min(issued_at + SESSION_SECONDS, int(sign_in.expires_at.timestamp()))
    key = signing_key()
    claims = {
        "iss": ISSUER,
        "aud": str(sign_in.widget_id),
        "sub": sign_in.subject,
        "iat": issued_at,
        "exp": expires,
        "jti": uuid.uuid4().hex,
        "sid": str(sign_in.session_id),
    }
    token = jwt.encode(
        claims, key.private_key, algorithm=tokens.ALGORITHM, headers={"kid": key.kid, "typ": TYPE}
    )
    return token, expires - issued_at


class PlatformKey:
    """The key source of session tokens: the platform's own signing key, for typed tokens."""

    mismatch = "The session token's signature does not match."

    def key_for(self, header: dict[str, Any], now: float) -> keys.KeyEntry:
        if header.get("typ") != TYPE:
            raise TokenRefused(
                "token_invalid",
                "This is not a session token of the platform; exchange the sign-in code at "
                "/widget/<widget_id>/auth/exchange and send the session_token it returns.",
            )
        key = signing_key()
        if header.get("kid") != key.kid:
            raise TokenRefused(
                "unknown_kid", "The platform's signing key has changed; refresh the session token."
            )
        return key.entry


def rules(setting: AuthenticationSetting, widget_id: str) -> tokens.Rules:
    """The platform's issuer, then the step that finds the live sign-in of this widget and
    setting behind the token (which reads the database)."""
    return tokens.Rules(issuer=ISSUER, more_steps=(_sign_in_step(setting.pk, str(widget_id)),))


def verify(
    setting: AuthenticationSetting, token: object, *, now: float, widget_id: str
) -> tokens.VerifiedToken:
    """Verify a session token for a widget and its setting at `now`: the token steps with the
    platform's key, then the sign-in behind it. Reads the database.

    Raises TokenRefused; `token_revoked` when the sign-in was revoked.
    """
    return tokens.verify(token, key_source=PlatformKey(), rules=rules(setting, widget_id), now=now)


def _sign_in_step(setting_id: int | None, widget_id: str) -> tokens.Step:
    def check(reading: tokens.Reading) -> None:
        session_id = _check_session_claims(reading.payload, widget_id)
        sign_in = WidgetSignIn.objects.filter(session_id=session_id, widget_id=widget_id).first()
        if sign_in is None or sign_in.setting_id != setting_id:
            raise TokenRefused(
                "token_invalid", "The session token is from a sign-in of another chat or setting."
            )
        if sign_in.revoked_at is not None:
            raise TokenRefused("token_revoked", "This sign-in has ended; sign in again.")

    return tokens.Step(
        "sign-in",
        check,
        lambda _: "The token is from a live sign-in of this chat and setting.",
        "Sign in again.",
    )


def _check_session_claims(payload: dict[str, Any], widget_id: str) -> uuid.UUID:
    """The sign-in's session id, once aud names the widget. Raises TokenRefused."""
    if missing := [name for name in ("aud", "sid") if name not in payload]:
        raise TokenRefused("claims_missing", f"The token lacks the claims {', '.join(missing)}.")
    if payload["aud"] != widget_id:
        raise TokenRefused("claims_invalid", "The session token is for another chat widget.")
    try:
        return uuid.UUID(payload["sid"])
    except (TypeError, ValueError, AttributeError):
        raise TokenRefused("claims_invalid", "sid must be a session id.") from None
