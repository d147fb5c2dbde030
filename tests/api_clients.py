"""API clients with real tokens from the platform's own authorization server: credentials made
by the `create_api_client` command as an operator would, tokens fetched from /o/token/; and the
resources they reach."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

ALL_SCOPES = "config:read config:write conversations:read conversations:write"
# The configuration resources, each at /api/v1/<path>/ and /api/v1/<path>/<id>/; conversations,
# read-only, are the API's only other resource.
CONFIG_PATHS = [
    "authentication-settings",
    "workstreams",
    "context-variables",
    "queues",
    "routing-rules",
    "rich-messages",
    "channel-instances",
    "deployments",
    "contacts",
]


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


def results(response) -> list[dict]:
    """The records of a list response, which must have succeeded."""
    assert response.status_code == 200, response.content
    return response.json()["results"]
