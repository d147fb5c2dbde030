"""A client secret goes in and never comes out: not in responses, errors, pages or logs."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from authsettings.models import AuthenticationSetting
from tests.helpers import PASSWORD, Type, make_setting

pytestmark = pytest.mark.django_db

SECRET = "Sup3r-s3cret-client-value"
NEW_SECRET = "An0ther-s3cret-client-value"

OPENID = {
    "name": "Identity provider",
    "channel_type": "live_chat",
    "authentication_type": "openid_connect",
    "discovery_uri": "https://id.example.com/.well-known/openid-configuration",
    "client_id": "portal",
    "scope": "openid profile",
}


@pytest.fixture
def setting(db) -> AuthenticationSetting:
    return make_setting(Type.OPENID_CONNECT, client_secret=SECRET)


def url(setting) -> str:
    return f"/api/v1/authentication-settings/{setting.pk}/"


def stored_secret(setting) -> str:
    return AuthenticationSetting.objects.get(pk=setting.pk).client_secret


def test_a_secret_is_written_but_only_its_presence_is_read(api):
    created = api.post("/api/v1/authentication-settings/", {**OPENID, "client_secret": SECRET})
    assert created.status_code == 201, created.content
    assert "client_secret" not in created.json()
    assert created.json()["client_secret_set"] is True
    setting = AuthenticationSetting.objects.get(pk=created.json()["id"])
    assert setting.client_secret == SECRET
    assert api.get(url(setting)).json()["client_secret_set"] is True


def test_a_change_without_the_secret_keeps_it(api, setting):
    assert api.patch(url(setting), {"client_id": "portal-2"}).status_code == 200
    assert api.put(url(setting), {**OPENID, "name": "Renamed"}).status_code == 200
    assert stored_secret(setting) == SECRET


def test_a_change_with_a_secret_replaces_it(api, setting):
    response = api.patch(url(setting), {"client_secret": NEW_SECRET})
    assert response.status_code == 200
    assert stored_secret(setting) == NEW_SECRET
    assert AuthenticationSetting.objects.get(pk=setting.pk).client_secret_changed_at


def test_an_empty_secret_removes_it_where_the_type_allows(api, implicit_setting, setting):
    implicit_setting.client_secret = SECRET
    implicit_setting.save()
    response = api.patch(url(implicit_setting), {"client_secret": ""})
    assert response.json()["client_secret_set"] is False
    assert stored_secret(implicit_setting) == ""
    assert api.patch(url(setting), {"client_secret": ""}).status_code == 400
    assert stored_secret(setting) == SECRET


def staff(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_staff_without_the_secret_permission_change_a_setting_but_not_its_secret(diane, setting):
    client = staff(diane)
    refused = client.patch(
        url(setting), {"client_secret": NEW_SECRET}, content_type="application/json"
    )
    assert refused.status_code == 403
    assert stored_secret(setting) == SECRET
    kept = client.patch(url(setting), {"scope": "openid email"}, content_type="application/json")
    assert kept.status_code == 200
    assert stored_secret(setting) == SECRET
    for field, value in (
        ("client_id", "portal-2"),
        ("discovery_uri", "https://attacker.example.com/.well-known/openid-configuration"),
    ):
        moved = client.patch(url(setting), {field: value}, content_type="application/json")
        assert moved.status_code == 403
        assert "needs the permission to set secrets" in moved.json()["detail"]
    assert AuthenticationSetting.objects.get(pk=setting.pk).client_id == OPENID["client_id"]

    diane.user_permissions.add(Permission.objects.get(codename="set_client_secret"))
    allowed = client.patch(
        url(setting), {"client_secret": NEW_SECRET}, content_type="application/json"
    )
    assert allowed.status_code == 200
    assert stored_secret(setting) == NEW_SECRET


def test_staff_without_the_secret_permission_cannot_switch_the_type_a_secret_follows(diane):
    """The type decides which URL receives the secret: a token URL left over from an earlier
    type would get it once the type is switched to oauth2."""
    setting = make_setting(
        Type.OPENID_CONNECT, client_secret=SECRET, token_url="https://attacker.example.com/token"
    )
    switch = {
        "authentication_type": "oauth2",
        "token_custom_action": "userinfo",
        "redirect_url": "https://portal.example.com/callback",
    }

    refused = staff(diane).patch(url(setting), switch, content_type="application/json")

    assert refused.status_code == 403
    assert "authentication_type" in refused.json()["detail"]
    assert AuthenticationSetting.objects.get(pk=setting.pk).authentication_type == (
        "openid_connect"
    )


def test_the_secret_appears_in_no_response_and_no_log(api, alice, setting, caplog):
    caplog.set_level(logging.DEBUG)
    admin = staff(alice)
    html = {"HTTP_ACCEPT": "text/html"}
    responses = [
        api.post(
            "/api/v1/authentication-settings/",
            {**OPENID, "name": "Second provider", "client_secret": SECRET},
        ),
        api.post(
            "/api/v1/authentication-settings/",
            {**OPENID, "name": "x" * 300, "client_secret": SECRET, "scope": "profile"},
        ),
        api.post(
            "/api/v1/authentication-settings/",
            {**OPENID, "client_secret": [SECRET]},
        ),
        api.patch(url(setting), {"client_secret": SECRET, "access_token_expiry_seconds": 1}),
        api.patch(url(setting), {"client_secret": SECRET}),
        api.put(url(setting), {**OPENID, "client_secret": SECRET}),
        api.get("/api/v1/authentication-settings/"),
        api.get(url(setting)),
        api.options(url(setting)),
        api.get(f"{url(setting)}?format=api"),
        admin.get("/api/v1/authentication-settings/", **html),
        admin.get(url(setting), **html),
        admin.post(
            "/api/v1/authentication-settings/",
            {**OPENID, "client_secret": SECRET, "scope": "profile"},
            content_type="application/json",
            **html,
        ),
        admin.put(
            url(setting),
            {**OPENID, "client_secret": SECRET, "max_refresh_token_lifetime_seconds": 1},
            content_type="application/json",
            **html,
        ),
        admin.get("/api/schema/"),
        admin.get("/api/docs/"),
    ]
    assert [response.status_code for response in responses] == [
        201, 400, 400, 400, 200, 200, 200, 200, 200, 200, 200, 200, 400, 400, 200, 200
    ]  # fmt: skip
    for response in responses:
        assert SECRET not in response.content.decode()
    assert SECRET not in caplog.text
    assert "Bad Request: /api/v1/authentication-settings/" in caplog.text
