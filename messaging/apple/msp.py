"""The platform as Apple's Messaging Service Provider (MSP): its id and shared secret, and the
HS256 JWTs that both directions carry (CONTRACT.md "Apple Messages for Business")."""

from __future__ import annotations

import time

import jwt
from django.conf import settings

ALGORITHM = "HS256"
# Our requests to Apple's gateway carry a token this short-lived: a leaked one is soon useless.
GATEWAY_TOKEN_SECONDS = 60


class NotConfigured(Exception):
    """CC_APPLE_MSP_ID or CC_APPLE_MSP_SECRET is unset."""


class AppleTokenRefused(Exception):
    """An inbound JWT that is not Apple's: wrong algorithm, signature, audience or time."""


def is_configured() -> bool:
    return bool(settings.APPLE_MSP_ID and settings.APPLE_MSP_SECRET)


def _secret() -> bytes:
    if not is_configured():
        raise NotConfigured("Set CC_APPLE_MSP_ID and CC_APPLE_MSP_SECRET.")
    return settings.APPLE_MSP_SECRET


def verify_apple_jwt(token: str, *, now: float | None = None) -> dict:
    """The claims of a JWT Apple signed for this MSP: HS256 with the shared secret, `aud` our
    MSP id, `exp` and `iat` (when present) within CC_JWT_LEEWAY_SECONDS of `now`. Raises
    NotConfigured, AppleTokenRefused."""
    secret = _secret()
    now = time.time() if now is None else now
    leeway = settings.CC_JWT_LEEWAY_SECONDS
    try:
        if jwt.get_unverified_header(token).get("alg") != ALGORITHM:
            raise AppleTokenRefused("The token is not signed with HS256.")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.APPLE_MSP_ID,
            # Times are checked below against `now`, which tests may move.
            options={"require": ["aud"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as error:
        raise AppleTokenRefused(str(error)) from None
    exp, iat = claims.get("exp"), claims.get("iat")
    if exp is not None and (not _is_time(exp) or now >= exp + leeway):
        raise AppleTokenRefused("The token has expired.")
    if iat is not None and (not _is_time(iat) or iat > now + leeway):
        raise AppleTokenRefused("The token is issued in the future.")
    return claims


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def gateway_jwt(*, now: float | None = None) -> str:
    """A token for Apple's gateway: HS256, `iss` our MSP id, expiring in a minute. Raises
    NotConfigured."""
    issued = int(time.time() if now is None else now)
    return jwt.encode(
        {"iss": settings.APPLE_MSP_ID, "iat": issued, "exp": issued + GATEWAY_TOKEN_SECONDS},
        _secret(),
        algorithm=ALGORITHM,
    )
