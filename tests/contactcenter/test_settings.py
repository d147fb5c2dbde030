"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from contactcenter.env import envbool, envint, envlist, generated_once
from tests.helpers import settings_of
from tests.live import PLAIN_HTTP


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("On", True), ("0", False)])
def test_a_boolean_reads_common_words(monkeypatch, value, expected):
    monkeypatch.setenv("CC_FLAG", value)
    assert envbool("CC_FLAG", not expected) is expected


def test_a_boolean_that_is_not_one_fails_loudly(monkeypatch):
    monkeypatch.setenv("CC_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="CC_FLAG must be true or false"):
        envbool("CC_FLAG", False)


@pytest.mark.parametrize("value", ["ten", "1.5", "-1"])
def test_a_number_that_is_not_a_whole_non_negative_one_fails_loudly(monkeypatch, value):
    monkeypatch.setenv("CC_JWT_LEEWAY_SECONDS", value)
    with pytest.raises(ImproperlyConfigured, match="CC_JWT_LEEWAY_SECONDS must be"):
        envint("CC_JWT_LEEWAY_SECONDS", 30)


def test_an_unset_number_takes_its_default(monkeypatch):
    monkeypatch.delenv("CC_JWT_LEEWAY_SECONDS", raising=False)
    assert envint("CC_JWT_LEEWAY_SECONDS", 30) == 30


def test_a_list_ignores_spaces_and_empty_items(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", " cc.example.com, ,localhost ")
    assert envlist("DJANGO_ALLOWED_HOSTS") == ["cc.example.com", "localhost"]


def test_a_generated_value_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = generated_once(path, lambda: "first")
    assert generated_once(path, lambda: "second") == first == "first"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_bad_environment_value_stops_the_platform_from_starting():
    result = settings_of({"CC_KEY_CACHE_SECONDS": "soon"}, "settings.CC_KEY_CACHE_SECONDS")
    assert result.returncode != 0
    assert "CC_KEY_CACHE_SECONDS must be a whole number, not 'soon'" in result.stderr


def test_the_services_follow_the_urls_given():
    result = settings_of(
        {
            "DATABASE_URL": "postgres://cc:pw@127.0.0.1:5432/cc",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
        "settings.DATABASES['default']['ENGINE'], settings.CHANNEL_LAYERS['default']['BACKEND'],"
        " settings.CACHES['default']['BACKEND']",
    )
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "channels_redis.pubsub.RedisPubSubChannelLayer",
        "contactcenter.lib.shared_cache.KeptClientRedisCache",
    ]


def test_on_postgresql_statements_are_prepared_unless_turned_off():
    postgresql = {"DATABASE_URL": "postgres://cc:pw@127.0.0.1:5432/cc"}
    options = "sorted(settings.DATABASES['default'].get('OPTIONS', {}).items())"
    assert settings_of(postgresql, options).stdout.strip() == (
        "[('prepare_threshold', 5), ('server_side_binding', True)]"
    )
    turned_off = {**postgresql, "DATABASE_PREPARED_STATEMENTS": "false"}
    assert settings_of(turned_off, options).stdout.strip() == "[]"


def test_the_defaults_need_nothing_installed():
    result = settings_of(
        {},
        "settings.DATABASES['default']['ENGINE'], settings.CHANNEL_LAYERS['default']['BACKEND']",
    )
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
    ]


def test_in_memory_services_with_debug_off_are_warned_about(settings):
    settings.DEBUG = False
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ids = {message.id for message in run_checks()}
    assert {"messaging.W001", "messaging.W002"} <= ids
    settings.DEBUG = True
    ids = {message.id for message in run_checks()}
    assert not {"messaging.W001", "messaging.W002"} & ids


def test_processes_starting_together_agree_on_one_generated_value(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "var" / "field_encryption_key"
    with ThreadPoolExecutor(max_workers=16) as pool:
        values = list(pool.map(lambda n: generated_once(path, lambda: f"value-{n}"), range(64)))
    assert len(set(values)) == 1
    assert values[0].startswith("value-")
    assert sorted(p.name for p in path.parent.iterdir()) == ["field_encryption_key"]


TRANSPORT = (
    "settings.CC_SECURE_TRANSPORT, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,"
    " settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS"
)


def test_with_debug_off_transport_is_secure_unless_turned_off():
    assert settings_of({}, TRANSPORT).stdout.split() == ["True"] * 4 + [str(365 * 24 * 3600)]
    plain = settings_of({"CC_SECURE_TRANSPORT": "false"}, TRANSPORT).stdout.split()
    assert plain == [str(value) for value in PLAIN_HTTP.values()]


def test_with_debug_on_transport_is_plain_http_unless_turned_on():
    assert settings_of({"DJANGO_DEBUG": "true"}, TRANSPORT).stdout.split() == [
        str(value) for value in PLAIN_HTTP.values()
    ]
    secure = settings_of({"DJANGO_DEBUG": "true", "CC_SECURE_TRANSPORT": "on"}, TRANSPORT)
    assert secure.stdout.split() == ["True"] * 4 + [str(365 * 24 * 3600)]
