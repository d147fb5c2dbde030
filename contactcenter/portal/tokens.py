"""The JWTs the sample portal hands the chat widget: RS256, signed with the current key."""

from __future__ import annotations

import json
import time

import jwt

from contactcenter.portal import keys

TOKEN_LIFETIME_SECONDS = 10 * 60


# One `iss` whatever host the portal is reached by (127.0.0.1, localhost, a tunnel), so the
# demo setting's expected issuer always matches.
ISSUER = "urn:contactcenter:sample-portal"


def issue(
    *,
    issuer: str = ISSUER,
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
