"""OAuth 2.0 requests to a provider (RFC 6749): redeeming an authorization code at its token
endpoint, and reading the JSON objects providers answer with. Every request goes through the
guarded fetcher; errors never carry the code, a token or the client secret."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

from authsettings.tokens import TokenRefused
from contactcenter.lib import fetch
from contactcenter.lib.strict_json import reject_constant

CLIENT_SECRET_BASIC = "client_secret_basic"  # noqa: S105 (a method name)
CLIENT_SECRET_POST = "client_secret_post"  # noqa: S105 (a method name)


@dataclass(frozen=True)
class Grant:
    """What the widget hands over after the page's sign-in: the authorization code, the
    redirect URI it was issued for, and the PKCE verifier and OpenID nonce, if any."""

    code: str
    redirect_uri: str
    code_verifier: str | None = None
    nonce: str | None = None


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    auth_method: str = CLIENT_SECRET_BASIC


def redeem_code(token_endpoint: str, client: Client, grant: Grant) -> dict[str, Any]:
    """The token response for an authorization code (it has at least an access_token).

    Raises TokenRefused (`token_invalid`) when the endpoint cannot be reached, refuses the code
    or answers something else than a token response.
    """
    form = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": grant.redirect_uri,
    }
    if grant.code_verifier:
        form["code_verifier"] = grant.code_verifier
    headers = {}
    if client.auth_method == CLIENT_SECRET_POST:
        form.update(client_id=client.client_id, client_secret=client.client_secret)
    else:
        headers["Authorization"] = basic_authorization(client.client_id, client.client_secret)
    try:
        fetched = fetch.post_form(token_endpoint, form, headers=headers)
    except fetch.FetchError as error:
        raise TokenRefused(
            "token_invalid", f"The token endpoint did not redeem the code: {error}"
        ) from None
    response = json_object(fetched.body, "The token endpoint's answer", code="token_invalid")
    if not isinstance(response.get("access_token"), str):
        raise TokenRefused("token_invalid", "The token endpoint's answer has no access_token.")
    return response


def basic_authorization(client_id: str, client_secret: str) -> str:
    """HTTP Basic credentials as RFC 6749 2.3.1 has them: each part form-encoded first."""
    credentials = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return f"Basic {base64.b64encode(credentials).decode('ascii')}"


def json_object(body: bytes, what: str, *, code: str) -> dict[str, Any]:
    """A provider's answer as a JSON object. Raises TokenRefused with `code` otherwise."""
    try:
        value = json.loads(body, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        raise TokenRefused(code, f"{what} is not JSON.") from None
    if not isinstance(value, dict):
        raise TokenRefused(code, f"{what} is not a JSON object.")
    return value
