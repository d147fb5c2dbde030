"""Fixtures shared by the tests of the authentication setting tester."""

from __future__ import annotations

import socket

import pytest

from authsettings.models import AuthenticationSetting


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
