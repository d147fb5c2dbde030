"""The JWTs the sample portal hands the chat widget: RS256, signed with the current key."""

from __future__ import annotations

import json
import time

import jwt
from django.urls import reverse

from contactcenter.portal import keys

TOKEN_LIFETIME_SECONDS = 10 * 60


def issuer_for(base_url: str) -> str:
    """The portal's `iss`: its own base URL on a platform served at `base_url`."""
    return base_url.rstrip("/") + reverse("portal:home").rstrip("/")


def issue(
    *,
    issuer: str,
    subject: str,
    context: dict[str, str],
    now: float | None = None,
    lifetime: int = TOKEN_LIFETIME_SECONDS,
) -> str:
    """A token for `subject` whose lwicontexts claim carries `context` as a JSON string."""
    now = int(time.time() if now is None else now)
    key = keys.current_key()
    claims = {
        "iss": issuer,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "lwicontexts": json.dumps(context),
    }
    return jwt.encode(claims, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
