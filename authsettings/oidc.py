"""OpenID Connect: a provider's discovery document, the id tokens it issues, and the two
built-in token actions of `oauth2` settings, which learn the user id from it.

Discovery documents come through the guarded fetcher and are kept as last_good documents, like
keys: trusted for CC_KEY_CACHE_SECONDS, and while the URL fails the last good one stays in use. Id
tokens are checked by tokens.verify (the contract's format, RS256, key selection and claims)
against the keys at the provider's jwks_uri and its issuer, then for `aud`, `azp` and `nonce`
(OpenID Connect Core 3.1.3.7).
"""

from __future__ import annotations

import hmac
import re
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from authsettings import last_good, oauth, tokens
from authsettings.models import AuthenticationSetting
from authsettings.tokens import TokenRefused
from contactcenter.lib import fetch, outbound
from contactcenter.lib.strict_json import shown

DISCOVERY_PATH = "/.well-known/openid-configuration"
_documents = last_good.LastGood(prefix="authsettings:discovery:v2", what="discovery document")
ACCESS_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")


@dataclass(frozen=True)
class Provider:
    """What the platform uses of a discovery document."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    client_auth_method: str


def discover(url: str, *, now: float) -> Provider:
    """The provider a discovery document describes, kept as a last_good document.

    Raises TokenRefused: `key_unavailable` when the document cannot be had or is unusable,
    `issuer_mismatch` when its issuer is not the one the URL names.
    """
    held = _documents.get(url)
    if held is None or not held.is_fresh(now):
        try:
            held, _tried = _documents.refresh(url, now, lambda: _load(url), held)
        except last_good.Unavailable as error:
            raise TokenRefused(error.code, error.detail) from None
    return Provider(**held.data)


def _load(url: str) -> dict[str, Any]:
    """Raises last_good.Unavailable with discover()'s codes."""
    try:
        return asdict(parse_discovery(url, _download(url)))
    except TokenRefused as error:
        raise last_good.Unavailable(error.code, error.detail) from None


def parse_discovery(url: str, body: bytes) -> Provider:
    """Read a discovery document fetched from `url`. Raises TokenRefused as discover() does."""
    document = oauth.json_object(body, "The discovery document", code="key_unavailable")
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer:
        raise TokenRefused("key_unavailable", "The discovery document has no issuer.")
    # OpenID Connect Discovery 4.3: the document is the issuer's own, so a provider cannot
    # speak for another (mix-up).
    if issuer.rstrip("/") + DISCOVERY_PATH != url.rstrip("/"):
        raise TokenRefused(
            "issuer_mismatch",
            f"The discovery document's issuer {shown(issuer)} is not the one its URL names; "
            f"the discovery URI must be the issuer followed by {DISCOVERY_PATH}.",
        )
    algorithms = document.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and tokens.ALGORITHM not in algorithms:
        raise TokenRefused(
            "key_unavailable",
            f"The provider does not sign id tokens with {tokens.ALGORITHM}; set the client "
            f"to {tokens.ALGORITHM} at the provider.",
        )
    userinfo = document.get("userinfo_endpoint")
    return Provider(
        issuer=issuer,
        token_endpoint=_endpoint(document, "token_endpoint"),
        jwks_uri=_endpoint(document, "jwks_uri"),
        userinfo_endpoint=_endpoint(document, "userinfo_endpoint") if userinfo else None,
        client_auth_method=_client_auth_method(document),
    )


def _endpoint(document: dict[str, Any], name: str) -> str:
    url = document.get(name)
    if not isinstance(url, str) or not url:
        raise TokenRefused("key_unavailable", f"The discovery document has no {name}.")
    if problem := outbound.url_problem(url):
        raise TokenRefused("key_unavailable", f"The discovery document's {name}: {problem}")
    return url


def _client_auth_method(document: dict[str, Any]) -> str:
    """client_secret_basic unless the provider offers only client_secret_post (the default
    when the document lists none is client_secret_basic). Raises TokenRefused."""
    offered = document.get("token_endpoint_auth_methods_supported") or [oauth.CLIENT_SECRET_BASIC]
    for method in (oauth.CLIENT_SECRET_BASIC, oauth.CLIENT_SECRET_POST):
        if isinstance(offered, list) and method in offered:
            return method
    raise TokenRefused(
        "key_unavailable",
        "The provider's token endpoint takes neither client_secret_basic nor "
        "client_secret_post; the platform authenticates with its client secret.",
    )


def _download(url: str) -> bytes:
    try:
        return fetch.fetch(url, accept="application/json").body
    except fetch.FetchError as error:
        raise TokenRefused(
            "key_unavailable", f"The discovery document could not be fetched: {error}"
        ) from None


# Id tokens


def validate_id_token(
    id_token: object, provider: Provider, *, client_id: str, nonce: str | None, now: float
) -> tokens.VerifiedToken:
    """Check an id token from `provider` for the client: the token steps against the keys at
    its jwks_uri and its issuer, then `aud` and `azp`, then `nonce` when one was sent.

    Raises TokenRefused with the contract's codes (`claims_missing` / `claims_invalid` for
    `aud`, `azp` and `nonce`).
    """
    steps = (_client_step(client_id),) + (() if nonce is None else (_nonce_step(nonce),))
    return tokens.verify(
        id_token,
        key_source=tokens.KeyUrl(provider.jwks_uri),
        rules=tokens.Rules(issuer=provider.issuer, more_steps=steps),
        now=now,
    )


def _client_step(client_id: str) -> tokens.Step:
    def check(reading: tokens.Reading) -> None:
        aud = reading.payload.get("aud")
        if aud is None:
            raise TokenRefused("claims_missing", "The id token has no aud.")
        audiences = tokens.audiences_of(aud)
        if client_id not in audiences:
            raise TokenRefused(
                "claims_invalid",
                f"The id token is for {shown(aud)}, not for the setting's client id.",
            )
        azp = reading.payload.get("azp")
        if len(audiences) > 1 and azp is None:
            raise TokenRefused("claims_missing", "The id token has several audiences and no azp.")
        if azp is not None and azp != client_id:
            raise TokenRefused(
                "claims_invalid", "The id token's azp is not the setting's client id."
            )

    return tokens.Step(
        "aud and azp",
        check,
        lambda _: "The id token is for the setting's client id.",
        "Set the setting's client id to the one the provider issues id tokens for.",
    )


def _nonce_step(nonce: str) -> tokens.Step:
    def check(reading: tokens.Reading) -> None:
        said = reading.payload.get("nonce")
        if said is None:
            raise TokenRefused("claims_missing", "The id token has no nonce, and one was sent.")
        if not isinstance(said, str) or not hmac.compare_digest(said.encode(), nonce.encode()):
            raise TokenRefused(
                "claims_invalid", "The id token's nonce is not the one sent with the sign-in."
            )

    return tokens.Step(
        "nonce",
        check,
        lambda _: "The id token carries the nonce sent with the sign-in.",
        "Send the nonce the sign-in started with.",
    )


# Built-in token actions of `oauth2` settings (see token_actions)


def discovery_uri_of(setting: AuthenticationSetting) -> str:
    """Where an `oauth2` setting's provider publishes its discovery document: the setting's
    discovery URI when it has one, otherwise the token URL's origin + DISCOVERY_PATH."""
    if setting.discovery_uri:
        return setting.discovery_uri
    parts = urlsplit(setting.token_url)
    return f"{parts.scheme}://{parts.netloc}{DISCOVERY_PATH}"


def subject_from_id_token(setting: AuthenticationSetting, token_response: dict[str, Any]) -> str:
    """The `id_token` action: `sub` of the verified id token in the token response.

    Raises TokenRefused.
    """
    now = time.time()
    id_token = token_response.get("id_token")
    if not isinstance(id_token, str):
        raise TokenRefused(
            "token_invalid", "The token response has no id_token; ask for the openid scope."
        )
    provider = discover(discovery_uri_of(setting), now=now)
    return validate_id_token(
        id_token, provider, client_id=setting.client_id, nonce=None, now=now
    ).sub


def subject_from_userinfo(setting: AuthenticationSetting, token_response: dict[str, Any]) -> str:
    """The `userinfo` action: `sub` from the provider's userinfo endpoint, asked with the
    access token. POST (OpenID Connect Core 5.3.1) carries the bearer header through the
    guarded fetcher.

    Raises TokenRefused (`token_invalid`, or discover()'s codes).
    """
    access_token = token_response.get("access_token")
    if not isinstance(access_token, str) or not ACCESS_TOKEN.fullmatch(access_token):
        raise TokenRefused("token_invalid", "The token response's access_token is not usable.")
    provider = discover(discovery_uri_of(setting), now=time.time())
    if provider.userinfo_endpoint is None:
        raise TokenRefused("key_unavailable", "The provider publishes no userinfo_endpoint.")
    try:
        fetched = fetch.post_form(
            provider.userinfo_endpoint, {}, headers={"Authorization": f"Bearer {access_token}"}
        )
    except fetch.FetchError as error:
        raise TokenRefused(
            "token_invalid", f"The userinfo endpoint did not answer: {error}"
        ) from None
    userinfo = oauth.json_object(fetched.body, "The userinfo answer", code="token_invalid")
    sub = userinfo.get("sub")
    if not isinstance(sub, str):
        raise TokenRefused("claims_missing", "The userinfo answer has no sub.")
    return sub
