"""The expected audience and Link contacts fields of authentication settings, through the API."""

from __future__ import annotations

import pytest

from authsettings.models import AuthenticationSetting
from tests.helpers import VALID_SETTINGS, Type

pytestmark = pytest.mark.django_db

LIST = "/api/v1/authentication-settings/"
AUDIENCE = "https://chat.example.com"


def body(authentication_type, **fields) -> dict:
    return {
        "name": f"{authentication_type} setting",
        "authentication_type": authentication_type,
        **VALID_SETTINGS[authentication_type],
        **fields,
    }


def test_a_new_setting_expects_no_audience_and_links_contacts(api):
    created = api.post(LIST, body(Type.OAUTH2_IMPLICIT))

    assert created.status_code == 201, created.content
    assert created.json()["expected_audience"] == ""
    assert created.json()["link_contacts"] is True


def test_an_implicit_setting_is_created_with_an_audience_and_without_contact_linking(api):
    created = api.post(
        LIST, body(Type.OAUTH2_IMPLICIT, expected_audience=AUDIENCE, link_contacts=False)
    )

    assert created.status_code == 201, created.content
    setting = AuthenticationSetting.objects.get(pk=created.json()["id"])
    assert (setting.expected_audience, setting.link_contacts) == (AUDIENCE, False)
    read = api.get(f"{LIST}{setting.pk}/").json()
    assert (read["expected_audience"], read["link_contacts"]) == (AUDIENCE, False)


def test_both_fields_change_and_a_change_without_them_keeps_them(api, implicit_setting):
    url = f"{LIST}{implicit_setting.pk}/"

    changed = api.patch(url, {"expected_audience": AUDIENCE, "link_contacts": False})
    assert changed.status_code == 200, changed.content
    assert api.patch(url, {"name": "Renamed"}).status_code == 200

    implicit_setting.refresh_from_db()
    assert (implicit_setting.expected_audience, implicit_setting.link_contacts) == (AUDIENCE, False)


@pytest.mark.parametrize("authentication_type", [Type.OPENID_CONNECT, Type.OAUTH2])
def test_a_setting_other_than_implicit_refuses_an_audience_on_that_field(api, authentication_type):
    refused = api.post(LIST, body(authentication_type, expected_audience=AUDIENCE))

    assert refused.status_code == 400
    assert refused.json() == {
        "expected_audience": [
            "Only the OAuth 2.0 implicit flow checks an audience; leave it empty."
        ]
    }


def test_an_openid_connect_setting_takes_link_contacts(api):
    created = api.post(LIST, body(Type.OPENID_CONNECT, link_contacts=False))

    assert created.status_code == 201, created.content
    assert created.json()["link_contacts"] is False


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expected_audience": "a" * 256}, "expected_audience"),
        ({"expected_audience": ["https://chat.example.com"]}, "expected_audience"),
        ({"link_contacts": None}, "link_contacts"),
        ({"link_contacts": "sometimes"}, "link_contacts"),
    ],
)
def test_a_bad_value_is_a_400_on_its_field(api, fields, field):
    refused = api.post(LIST, body(Type.OAUTH2_IMPLICIT, **fields))

    assert refused.status_code == 400
    assert list(refused.json()) == [field]
