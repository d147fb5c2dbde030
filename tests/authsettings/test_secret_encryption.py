"""Client secrets are encrypted at rest, survive key rotation, and never fall back to plaintext."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from authsettings import crypto
from authsettings.models import AuthenticationSetting
from tests.helpers import Type, make_setting

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

SECRET = "client-secret-0123456789"


def raw_secret_column(setting: AuthenticationSetting) -> str:
    table = AuthenticationSetting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT client_secret FROM {table} WHERE id = %s", [setting.pk])  # noqa: S608
        return cursor.fetchone()[0]


def oidc_setting(secret: str = SECRET) -> AuthenticationSetting:
    return make_setting(Type.OPENID_CONNECT, client_secret=secret)


def test_the_database_holds_no_plaintext_secret():
    setting = oidc_setting()
    stored = raw_secret_column(setting)
    assert SECRET not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert AuthenticationSetting.objects.get(pk=setting.pk).client_secret == SECRET


def test_the_history_keeps_no_secret_but_records_that_it_changed():
    setting = oidc_setting()
    first_change = setting.client_secret_changed_at
    setting.client_secret = "a-new-secret-value"
    setting.save()
    latest, previous = setting.history.all()[:2]
    assert not hasattr(latest, "client_secret")
    assert latest.client_secret_changed_at > first_change
    delta = latest.diff_against(previous)
    assert delta.changed_fields == ["client_secret_changed_at"]


def test_saving_without_touching_the_secret_keeps_its_change_date():
    setting = oidc_setting()
    changed_at = setting.client_secret_changed_at
    reloaded = AuthenticationSetting.objects.get(pk=setting.pk)
    reloaded.scope = "openid email"
    reloaded.save()
    assert AuthenticationSetting.objects.get(pk=setting.pk).client_secret_changed_at == changed_at


def test_rows_written_with_an_old_key_stay_readable_after_rotation(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    setting = oidc_setting()
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert AuthenticationSetting.objects.get(pk=setting.pk).client_secret == SECRET

    call_rotation()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert AuthenticationSetting.objects.get(pk=setting.pk).client_secret == SECRET


def call_rotation() -> None:
    from django.core.management import call_command

    call_command("rotate_field_encryption")


def test_a_value_encrypted_with_an_unknown_key_raises_instead_of_reading_as_plaintext(settings):
    setting = oidc_setting()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.SecretUnreadable):
        AuthenticationSetting.objects.get(pk=setting.pk)


def test_a_tampered_value_raises():
    setting = oidc_setting()
    stored = raw_secret_column(setting)
    tampered = stored[:-8] + ("A" if stored[-8] != "A" else "B") + stored[-7:]
    AuthenticationSetting.objects.filter(pk=setting.pk).update(client_secret="placeholder")
    table = AuthenticationSetting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET client_secret = %s WHERE id = %s",  # noqa: S608
            [tampered, setting.pk],
        )
    with pytest.raises(crypto.SecretUnreadable):
        AuthenticationSetting.objects.get(pk=setting.pk)


def test_a_plaintext_value_in_the_column_is_not_accepted_as_a_secret():
    setting = oidc_setting()
    table = AuthenticationSetting._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET client_secret = %s WHERE id = %s",  # noqa: S608
            ["plain-text-secret", setting.pk],
        )
    with pytest.raises(crypto.SecretUnreadable):
        AuthenticationSetting.objects.get(pk=setting.pk)


def test_a_bad_key_setting_fails_loudly(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="Fernet keys"):
        crypto.encrypt("x")
