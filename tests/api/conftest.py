"""API clients with real tokens from the platform's own authorization server."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tests.api_clients import ALL_SCOPES, bearer, create_api_client, fetch_token


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Client secrets and passwords are hashed on every token request; a fast hasher keeps
    the many token-holding tests quick without changing what they exercise."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
