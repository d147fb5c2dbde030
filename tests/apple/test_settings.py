"""The MSP settings from the environment, and the check that warns when Apple channels exist
without them."""

from __future__ import annotations

import base64

import pytest
from django.core.checks import run_checks

from tests.helpers import settings_of

pytestmark = pytest.mark.django_db


def test_the_msp_settings_are_read_from_the_environment():
    secret = base64.b64encode(b"shared secret").decode()
    result = settings_of(
        {
            "CC_APPLE_MSP_ID": "msp-1",
            "CC_APPLE_MSP_SECRET": secret,
            "CC_APPLE_GATEWAY_URL": "https://gateway.example.com/v2/",
        },
        "(settings.APPLE_MSP_ID, settings.APPLE_MSP_SECRET, settings.APPLE_GATEWAY_URL)",
    )
    assert result.stdout.strip() == str(
        ("msp-1", b"shared secret", "https://gateway.example.com/v2")
    )
    default = settings_of({}, "settings.APPLE_GATEWAY_URL")
    assert default.stdout.strip() == "https://mspgw.push.apple.com/v1"


def test_a_secret_that_is_not_base64_stops_the_start():
    result = settings_of({"CC_APPLE_MSP_SECRET": "not base64!"}, "1")
    assert result.returncode != 0
    assert "CC_APPLE_MSP_SECRET must be base64" in result.stderr


def test_apple_channels_without_the_msp_settings_are_warned_about(settings, apple_channel):
    settings.APPLE_MSP_ID = ""
    ids = {message.id for message in run_checks(databases=["default"])}
    assert "messaging.W004" in ids
    settings.APPLE_MSP_ID, settings.APPLE_MSP_SECRET = "msp-1", b"secret"
    assert "messaging.W004" not in {m.id for m in run_checks(databases=["default"])}
