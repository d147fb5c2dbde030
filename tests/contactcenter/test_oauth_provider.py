"""The platform's own authorization server (/o/) follows RFC 9700: PKCE with S256 only, no
implicit flows or HS256 advertised, a replayed refresh token revokes its family, and plain
http redirect URIs only back to the visitor's own machine. It has no token introspection:
one API client has no business reading another's tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, RefreshToken

from tests.api_clients import create_api_client
from tests.helpers import Type, make_setting
from tests.live import platform_client

REDIRECT_URI = "https://portal.example.com/callback"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(client: Client, client_id: str, redirect_uri: str = REDIRECT_URI, **pkce: str):
    return client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": "st4te",
            **pkce,
        },
    )


@pytest.fixture
def signed_in(client, charlie) -> Client:
    client.force_login(charlie)
    return client


def test_a_plain_pkce_challenge_is_refused(signed_in):
    application, _ = platform_client(REDIRECT_URI)
    response = authorize(
        signed_in,
        application.client_id,
        code_challenge="a-challenge-sent-as-is-" + "x" * 30,
        code_challenge_method="plain",
    )

    answer = parse_qs(urlsplit(response["Location"]).query)
    assert answer["error"] == ["invalid_request"]
    assert "code" not in answer


def test_discovery_advertises_only_the_code_flow_s256_and_rs256(client, db):
    document = client.get("/o/.well-known/openid-configuration").json()

    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def tokens_for(client: Client, application, secret: str) -> dict:
    verifier = secrets.token_urlsafe(48)
    response = authorize(
        client, application.client_id, code_challenge=s256(verifier), code_challenge_method="S256"
    )
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    return redeem(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        application,
        secret,
    )


def redeem(form: dict, application, secret: str) -> dict:
    response = Client().post(
        "/o/token/", {**form, "client_id": application.client_id, "client_secret": secret}
    )
    return {"status": response.status_code, **response.json()}


def test_a_replayed_refresh_token_revokes_the_tokens_issued_from_it(signed_in):
    application, secret = platform_client(REDIRECT_URI)
    first = tokens_for(signed_in, application, secret)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}

    second = redeem(refresh, application, secret)
    replayed = redeem(refresh, application, secret)
    after = redeem(
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        application,
        secret,
    )

    assert second["status"] == 200
    assert (replayed["status"], replayed["error"]) == (400, "invalid_grant")
    assert (after["status"], after["error"]) == (400, "invalid_grant")


def test_tokens_are_stored_hashed(signed_in):
    application, secret = platform_client(REDIRECT_URI)
    issued = tokens_for(signed_in, application, secret)

    assert not AccessToken.objects.filter(token=issued["access_token"]).exists()
    assert not RefreshToken.objects.filter(token=issued["refresh_token"]).exists()


@pytest.mark.parametrize(
    ("redirect_uri", "allowed"),
    [
        ("http://portal.example.com/callback", False),
        ("http://127.0.0.1:8000/portal/oidc/", True),
        ("https://portal.example.com/callback", True),
    ],
)
def test_a_plain_http_redirect_uri_works_only_on_loopback(signed_in, redirect_uri, allowed):
    application, _ = platform_client(redirect_uri)
    response = authorize(
        signed_in,
        application.client_id,
        redirect_uri,
        code_challenge=s256("v" * 43),
        code_challenge_method="S256",
    )

    if allowed:
        assert response.status_code == 302
        assert response["Location"].startswith(redirect_uri + "?code=")
    else:
        assert response.status_code == 400
        assert "Location" not in response


@pytest.fixture
def api_client(db, settings) -> dict[str, str]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return create_api_client("Provisioning", "config:read")


def test_there_is_no_token_introspection_endpoint(api_client):
    issued = Client().post("/o/token/", {"grant_type": "client_credentials", **api_client})
    access_token = issued.json()["access_token"]

    response = Client().post(
        "/o/introspect/",
        {"token": access_token},
        headers={"Authorization": f"Bearer {access_token}"},
    )

    assert issued.status_code == 200
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/o/.well-known/openid-configuration", "/o/.well-known/oauth-authorization-server"]
)
def test_discovery_advertises_the_endpoints_there_are_and_no_introspection(client, db, path):
    document = client.get(path).json()

    assert document["token_endpoint"].endswith("/o/token/")
    assert document["authorization_endpoint"].endswith("/o/authorize/")
    assert document["jwks_uri"].endswith("/o/.well-known/jwks.json")
    assert not [key for key in document if key.startswith("introspection")]


def test_an_apple_sign_in_client_gets_a_code_without_pkce_and_others_do_not(signed_in):
    """Apple's devices send no code challenge: the confidential client an Apple OpenID Connect
    setting names is the one client that needs none."""
    apple_application, _ = platform_client(REDIRECT_URI, name="Apple sign-in")
    make_setting(Type.OAUTH2_OPENID_CONNECT, client_id=apple_application.client_id)
    other_application, _ = platform_client(REDIRECT_URI)

    apple = parse_qs(urlsplit(authorize(signed_in, apple_application.client_id)["Location"]).query)
    other = parse_qs(urlsplit(authorize(signed_in, other_application.client_id)["Location"]).query)

    assert "code" in apple
    assert other["error"] == ["invalid_request"]
    assert "code" not in other
