"""An OpenID Connect provider on the loopback key server: a discovery document, a JWKS, and
token and userinfo endpoints that answer as the test tells them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import parse_qs

from cryptography.hazmat.primitives.asymmetric import rsa

from authsettings.models import AuthenticationSetting
from tests.helpers import Type, make_setting
from tests.keyserver import Keys, KeyServer, Request, jwk, make_token

DISCOVERY = "/.well-known/openid-configuration"
CLIENT_ID = "portal-chat"
CLIENT_SECRET = "s3cret-client-value"
CODE = "the-authorization-code-0451"
REDIRECT_URI = "https://portal.example.com/callback"
CODE_VERIFIER = "v" * 43
NONCE = "n-0S6_WzA2Mj"
SUBJECT = "visitor-42"
ACCESS_TOKEN = "access-token-7731"
KID = "provider-key"


@dataclass
class IdentityProvider:
    server: KeyServer
    keys: Keys

    @property
    def issuer(self) -> str:
        return self.server.url("")

    @property
    def discovery_uri(self) -> str:
        return self.server.url(DISCOVERY)

    def publish(self, **overrides: object) -> None:
        """Serve the discovery document, with members replaced (None removes one), and the
        JWKS."""
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": self.server.url("/authorize"),
            "token_endpoint": self.server.url("/token"),
            "userinfo_endpoint": self.server.url("/userinfo"),
            "jwks_uri": self.server.url("/jwks"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            **overrides,
        }
        self.server.serve(DISCOVERY, {k: v for k, v in document.items() if v is not None})
        self.server.serve("/jwks", {"keys": [jwk(self.keys.signing, KID)]})

    def id_token(
        self, now: float, *, key: rsa.RSAPrivateKey | None = None, **overrides: object
    ) -> str:
        """A valid id token for CLIENT_ID issued at `now`, with claims replaced (None removes
        one)."""
        claims = {
            "iss": self.issuer,
            "sub": SUBJECT,
            "aud": CLIENT_ID,
            "iat": int(now),
            "exp": int(now) + 600,
            "nonce": NONCE,
            **overrides,
        }
        payload = {name: value for name, value in claims.items() if value is not None}
        return make_token(key or self.keys.signing, payload, kid=KID)

    def answer_code(self, response: dict) -> None:
        self.server.serve("/token", response)

    def answer_code_with_id_token(self, now: float, **overrides: object) -> None:
        self.answer_code(
            {
                "access_token": ACCESS_TOKEN,
                "token_type": "Bearer",
                "expires_in": 3600,
                "id_token": self.id_token(now, **overrides),
            }
        )

    def token_requests(self) -> list[Request]:
        return [request for request in self.server.requests if request.path == "/token"]


def start_provider(server: KeyServer, keys: Keys) -> IdentityProvider:
    provider = IdentityProvider(server, keys)
    provider.publish()
    return provider


def openid_setting(provider: IdentityProvider, **fields: object) -> AuthenticationSetting:
    """A saved OpenID Connect setting that signs in at `provider` as CLIENT_ID."""
    return make_setting(
        Type.OPENID_CONNECT,
        **{
            "discovery_uri": provider.discovery_uri,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scope": "openid",
            **fields,
        },
    )


def form_of(request: Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.body.decode()).items()}


def basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return None
    client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
    return client_id, secret
