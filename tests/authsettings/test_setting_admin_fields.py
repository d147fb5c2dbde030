"""The expected audience and Link contacts fields on an authentication setting's change form."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry

from authsettings.models import AuthenticationSetting
from tests.helpers import Type, make_setting

pytestmark = pytest.mark.django_db

AUDIENCE = "https://chat.example.com"


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


def change_url(setting: AuthenticationSetting) -> str:
    return f"/admin/authsettings/authenticationsetting/{setting.pk}/change/"


def fieldset_fields(response) -> dict[str | None, list[str]]:
    return {
        fieldset.name: [line.fields[0] for line in fieldset]
        for fieldset in response.context["adminform"]
    }


def posted(setting: AuthenticationSetting, **changes) -> dict:
    """The change form of `setting` as a browser posts it back, with `changes`."""
    values = {
        "name": setting.name,
        "owner": "",
        "channel_type": setting.channel_type,
        "authentication_type": setting.authentication_type,
        "public_key_url": setting.public_key_url,
        "javascript_client_function": setting.javascript_client_function,
        "discovery_uri": setting.discovery_uri,
        "client_id": setting.client_id,
        "scope": setting.scope,
        "additional_parameters": "{}",
        "access_token_expiry_seconds": setting.access_token_expiry_seconds,
        "max_refresh_token_lifetime_seconds": setting.max_refresh_token_lifetime_seconds,
        **({"link_contacts": "on"} if setting.link_contacts else {}),
        **changes,
    }
    return {name: value for name, value in values.items() if value is not None}


@pytest.fixture
def openid_setting(db) -> AuthenticationSetting:
    return make_setting(Type.OPENID_CONNECT)


def test_the_audience_sits_with_the_implicit_flow_and_link_contacts_with_every_type(
    admin_client, implicit_setting, openid_setting
):
    for setting in (implicit_setting, openid_setting):
        response = admin_client.get(change_url(setting))

        fields = fieldset_fields(response)
        assert "link_contacts" in fields[None]
        assert "expected_audience" in fields["OAuth 2.0 implicit flow"]
        assert response.context["adminform"].form["link_contacts"].value() is True
        assert "Any setting with this on can claim any contact" in response.content.decode()


def test_an_admin_sets_the_audience_and_turns_contact_linking_off(
    admin_client, alice, implicit_setting
):
    response = admin_client.post(
        change_url(implicit_setting),
        posted(implicit_setting, expected_audience=AUDIENCE, link_contacts=None),
    )

    assert response.status_code == 302
    implicit_setting.refresh_from_db()
    assert (implicit_setting.expected_audience, implicit_setting.link_contacts) == (AUDIENCE, False)
    entry = LogEntry.objects.get(object_id=str(implicit_setting.pk), action_flag=CHANGE)
    assert entry.user == alice
    assert "Expected audience" in entry.get_change_message()
    assert "Link contacts" in entry.get_change_message()


def test_an_audience_on_an_openid_connect_setting_is_refused_on_its_field(
    admin_client, openid_setting
):
    response = admin_client.post(
        change_url(openid_setting), posted(openid_setting, expected_audience=AUDIENCE)
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "expected_audience": [
            "Only the OAuth 2.0 implicit flow checks an audience; leave it empty."
        ]
    }
    openid_setting.refresh_from_db()
    assert openid_setting.expected_audience == ""
