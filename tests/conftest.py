"""Shared personas and factories.

alice is an administrator (superuser), bob an agent, charlie an outsider with no staff access,
and diane a staff member who may change settings but not their secrets.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings

from authsettings.keys import forget_recent
from contactcenter.models import ChannelType
from tests.helpers import (
    PASSWORD,
    Type,
    authentication_rich_message,
    deploy,
    make_agent,
    make_chat_widget,
    make_rule,
    make_setting,
)
from tests.live import PLAIN_HTTP
from workstreams.models import ContextVariable, Queue, Workstream

# A real key server on loopback, RSA keys and token makers, for every test that checks tokens.
pytest_plugins = ["tests.keyserver"]


@pytest.fixture(scope="session", autouse=True)
def _suite_settings(tmp_path_factory):
    """Plain http, and the static files: the suite runs with debug off, where pages name the
    hashed files that `collectstatic` writes, collected once, as every deploy does, into a
    directory of the run's own."""
    overrides = override_settings(STATIC_ROOT=tmp_path_factory.mktemp("static"), **PLAIN_HTTP)
    overrides.enable()
    # Servers keep their database connections; the suite does not: Channels' one database
    # thread outlives each test, and a connection it kept would reach into the next test's
    # database access (which pytest-django refuses where a test has none).
    for connection in connections.all():
        connection.settings_dict["CONN_MAX_AGE"] = 0
    call_command("collectstatic", interactive=False, verbosity=0)
    yield
    overrides.disable()


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    forget_recent()
    yield
    cache.clear()
    forget_recent()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_superuser("alice", "alice@example.com", PASSWORD)


@pytest.fixture
def bob(db):
    return make_agent("bob", email="bob@example.com", password=PASSWORD)


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
    return make_setting(Type.OAUTH2_IMPLICIT, name="Portal")


@pytest.fixture
def authentication_message(db):
    return authentication_rich_message(name="Sign in")


@pytest.fixture
def chat_widget(workstream, implicit_setting):
    return make_chat_widget(workstream, authentication_setting=implicit_setting)


@pytest.fixture
def deployment(chat_widget):
    return deploy(chat_widget)


@pytest.fixture
def chat(db, workstream, key_server, keys):
    """A widget requiring authentication, a deployment for the site, and routing rules."""
    # Imported here: the plugin module must be imported by pytest first to be rewritten.
    from tests.keyserver import ISSUER, public_pem

    key_server.serve("/publickey", public_pem(keys.signing), content_type="text/plain")
    setting = make_setting(
        Type.OAUTH2_IMPLICIT,
        name="Portal",
        public_key_url=key_server.url("/publickey"),
        expected_issuer=ISSUER,
    )
    widget = make_chat_widget(workstream, authentication_setting=setting)
    deployment = deploy(widget)
    vip = Queue.objects.create(name="VIP", workstream=workstream)
    make_rule("VIP first", order=1, when_true="msdyn_isvip", queue=vip, priority=10)
    return widget, deployment


def pytest_collection_modifyitems(config, items):
    """Tests about Redis itself leave the run where no Redis is named (deselected, not
    skipped: the integration run, which names one, runs them)."""
    if os.environ.get("REDIS_URL"):
        return
    kept = [item for item in items if item.get_closest_marker("redis") is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
