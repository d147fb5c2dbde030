"""Small helpers shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import count
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from messaging.models import AGENTS_GROUP, ChannelInstance, Deployment, RichMessage
from workstreams.models import Queue, RoutingRule

Type = AuthenticationSetting.Type
# The password of every persona made in tests/conftest.py.
PASSWORD = "correct horse battery staple"
LIVE = ChannelType.LIVE_CHAT
APPLE = ChannelType.APPLE_MESSAGES_FOR_BUSINESS

# A complete authentication setting of each type (Apple ones still need their rich messages):
# build_setting() and make_setting() start from these.
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

_serial = count(1)


def build_setting(authentication_type: str, **fields: object) -> AuthenticationSetting:
    """An unsaved setting of the type: its fields from VALID_SETTINGS with `fields` replaced,
    and a name no other setting made here has. Not checked, so a test can leave a rule broken."""
    values = {
        "name": f"{Type(authentication_type).label} {next(_serial)}",
        **VALID_SETTINGS[authentication_type],
        **fields,
    }
    return AuthenticationSetting(authentication_type=authentication_type, **values)


def make_setting(authentication_type: str, **fields: object) -> AuthenticationSetting:
    """A saved setting of the type, valid by the model's rules: build_setting() checked with
    full_clean(). An Apple setting gets an authentication rich message of its own, as its type
    requires. Raises ValidationError when `fields` break a rule."""
    setting = build_setting(authentication_type, **fields)
    setting.full_clean()
    rich_messages = [authentication_rich_message()] if setting.is_apple else []
    setting.validate_rich_messages(rich_messages)
    setting.save()
    setting.rich_messages.set(rich_messages)
    return setting


def authentication_rich_message(**fields: object) -> RichMessage:
    """A saved Apple rich message of type authentication."""
    values = {
        "name": f"Sign in {next(_serial)}",
        "type": RichMessage.Type.AUTHENTICATION,
        "content": {"received_message": "Please sign in", "reply_message": "Thanks, signed in"},
        **fields,
    }
    return RichMessage.objects.create(**values)


def make_chat_widget(workstream, *, name: str = "Portal chat", **fields: object) -> ChannelInstance:
    """A saved chat widget of the workstream; `fields` go to the model (its authentication
    setting, or require_authentication=False)."""
    return ChannelInstance.objects.create(
        name=name, kind=ChannelInstance.Kind.CHAT_WIDGET, workstream=workstream, **fields
    )


def deploy(
    widget: ChannelInstance, *, name: str = "Portal", site: str = "portal.example.com"
) -> Deployment:
    """A saved deployment of the widget that allows pages from `site`."""
    return Deployment.objects.create(name=name, channel_instance=widget, allowed_domains=[site])


def make_agent(username: str, **fields: object):
    """A saved active staff user in the Agents group: one the console admits and the API lists
    among a queue's agents (messaging.models.agent_users). `fields` go to create_user()."""
    user = get_user_model().objects.create_user(username, is_staff=True, **fields)
    user.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
    return user


def make_rule(name: str, *, order: int, when_true: str, queue: Queue, priority: int) -> RoutingRule:
    """A saved routing rule of the queue's workstream that sends a conversation whose context
    variable `when_true` is true to `queue` with `priority`."""
    return RoutingRule.objects.create(
        workstream=queue.workstream,
        name=name,
        order=order,
        conditions=[{"variable": when_true, "operator": "eq", "value": True}],
        queue=queue,
        priority=priority,
    )


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
