"""Shared personas and factories.

alice is an administrator (superuser), bob an agent, charlie an outsider with no staff access,
and diane a staff member who may change settings but not their secrets.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache

from authsettings import keys
from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Deployment, RichMessage
from workstreams.models import ContextVariable, Queue, Workstream

# A real key server on loopback, RSA keys and token makers, for every test that checks tokens.
pytest_plugins = ["tests.keyserver"]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    keys.forget_recent()
    yield
    cache.clear()
    keys.forget_recent()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def bob(django_user_model):
    user = django_user_model.objects.create_user("bob", "bob@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="Agents")[0])
    return user


@pytest.fixture
def charlie(django_user_model):
    return django_user_model.objects.create_user("charlie", "charlie@example.com", PASSWORD)


@pytest.fixture
def diane(django_user_model):
    user = django_user_model.objects.create_user(
        "diane", "diane@example.com", PASSWORD, is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="authsettings",
            codename__in=["view_authenticationsetting", "change_authenticationsetting"],
        )
    )
    return user


@pytest.fixture
def workstream(db):
    workstream = Workstream.objects.create(name="Web chat", channel_type=ChannelType.LIVE_CHAT)
    workstream.default_queue = Queue.objects.create(name="General", workstream=workstream)
    workstream.save()
    ContextVariable.objects.create(
        workstream=workstream, name="msdyn_cartvalue", type=ContextVariable.Type.NUMBER
    )
    ContextVariable.objects.create(
        workstream=workstream, name="msdyn_isvip", type=ContextVariable.Type.BOOLEAN
    )
    return workstream


@pytest.fixture
def implicit_setting(db):
    return AuthenticationSetting.objects.create(
        name="Portal",
        channel_type=ChannelType.LIVE_CHAT,
        authentication_type=AuthenticationSetting.Type.OAUTH2_IMPLICIT,
        public_key_url="https://portal.example.com/auth/publickey",
        javascript_client_function="auth.getAuthenticationToken",
    )


@pytest.fixture
def authentication_message(db):
    return RichMessage.objects.create(
        name="Sign in",
        type=RichMessage.Type.AUTHENTICATION,
        content={"received_message": "Please sign in", "reply_message": "Thanks, signed in"},
    )


@pytest.fixture
def chat_widget(workstream, implicit_setting):
    return ChannelInstance.objects.create(
        name="Portal chat",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=implicit_setting,
    )


@pytest.fixture
def deployment(chat_widget):
    return Deployment.objects.create(
        name="Portal", channel_instance=chat_widget, allowed_domains=["portal.example.com"]
    )
