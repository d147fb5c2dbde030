"""API clients with real tokens from the platform's own authorization server."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

ALL_SCOPES = "config:read config:write conversations:read"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Client secrets and passwords are hashed on every token request; a fast hasher keeps
    the many token-holding tests quick without changing what they exercise."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def create_api_client(name: str, scopes: str) -> dict[str, str]:
    """Run `create_api_client` as an operator would; returns its printed credentials."""
    out = io.StringIO()
    call_command("create_api_client", name, scopes=scopes, stdout=out)
    return json.loads(out.getvalue())


def fetch_token(credentials: dict[str, str], **extra: str) -> dict:
    response = Client().post(
        "/o/token/", {"grant_type": "client_credentials", **credentials, **extra}
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    client.default_format = "json"
    return client


@pytest.fixture
def api_client_for(db) -> Callable[[str], APIClient]:
    """Make an API client with the given scopes; returns a test client holding its token."""
    made = 0

    def make(scopes: str) -> APIClient:
        nonlocal made
        made += 1
        credentials = create_api_client(f"Client {made} ({scopes})", scopes)
        return bearer(fetch_token(credentials)["access_token"])

    return make


@pytest.fixture
def api(api_client_for) -> APIClient:
    """An API client with every scope."""
    return api_client_for(ALL_SCOPES)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]
