"""Fixtures shared by the tests of the authentication setting tester."""

from __future__ import annotations

import socket

import pytest

from authsettings.models import AuthenticationSetting

# The checks of a pasted token, in the order the chat runs them (context variables follow).
TOKEN_CHECKS = [
    "size",
    "format",
    "algorithm and header",
    "key",
    "signature",
    "required claims",
    "claim types",
    "lifetime",
    "exp",
    "nbf and iat",
    "iss",
    "aud",
    "lwicontexts",
]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def portal_setting(chat) -> AuthenticationSetting:
    """The implicit-flow setting of the `chat` widget: the signing key as PEM at the key
    server's /publickey, the ISSUER expected, used by the Web chat workstream."""
    widget, _deployment = chat
    return widget.authentication_setting
