"""Small helpers shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType

Type = AuthenticationSetting.Type
LIVE = ChannelType.LIVE_CHAT
APPLE = ChannelType.APPLE_MESSAGES_FOR_BUSINESS

# A complete authentication setting of each type (Apple ones still need their rich messages).
VALID_SETTINGS = {
    Type.OAUTH2_IMPLICIT: {
        "channel_type": LIVE,
        "public_key_url": "https://portal.example.com/auth/publickey",
        "javascript_client_function": "auth.getAuthenticationToken",
    },
    Type.OAUTH2: {
        "channel_type": LIVE,
        "token_custom_action": "userinfo",
        "token_url": "https://id.example.com/token",
        "redirect_url": "https://portal.example.com/callback",
        "client_id": "portal",
        "client_secret": "s3cret-value",
        "scope": "profile",
    },
    Type.OPENID_CONNECT: {
        "channel_type": LIVE,
        "discovery_uri": "https://id.example.com/.well-known/openid-configuration",
        "client_id": "portal",
        "client_secret": "s3cret-value",
        "scope": "openid profile",
    },
    Type.OAUTH2_CODE: {
        "channel_type": APPLE,
        "client_id": "apple",
        "client_secret": "s3cret-value",
        "scope": "read",
        "access_token_url": "https://id.example.com/token",
        "decrypted_token_url": "https://id.example.com/me",
    },
    Type.OAUTH2_OPENID_CONNECT: {
        "channel_type": APPLE,
        "client_id": "apple",
        "client_secret": "s3cret-value",
        "scope": "openid email",
        "access_token_url": "https://id.example.com/token",
        "decrypted_token_url": "https://id.example.com/me",
        "additional_parameters": {"prompt": "login"},
    },
}


def errors_of(record) -> dict[str, list[str]]:
    """The messages by field that full_clean() raises for a record that must be refused."""
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    return caught.value.message_dict


ROOT = Path(__file__).resolve().parents[1]


def settings_of(environment: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """Start the settings in a new interpreter with `environment` (the services' URLs only
    where given) and print `expression`."""
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "contactcenter.settings", **environment}
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in environment:
            env.pop(name, None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
