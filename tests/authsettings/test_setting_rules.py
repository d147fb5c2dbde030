"""The rules an authentication setting enforces, whichever door (admin, wizard, API) it came in."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from tests.helpers import APPLE, LIVE, Type, build_setting, errors_of

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.mark.parametrize("authentication_type", list(Type))
def test_a_complete_setting_of_each_type_saves(authentication_type):
    setting = build_setting(authentication_type)
    setting.full_clean()
    setting.save()
    assert AuthenticationSetting.objects.get(pk=setting.pk).authentication_type == (
        authentication_type
    )


@pytest.mark.parametrize(
    ("authentication_type", "field"),
    [
        (kind, field)
        for kind, fields in AuthenticationSetting.REQUIRED_FIELDS.items()
        for field in fields
    ],
)
def test_each_required_field_is_reported_on_that_field_when_missing(authentication_type, field):
    errors = errors_of(build_setting(authentication_type, **{field: ""}))
    assert list(errors) == [field]
    assert errors[field] == [f"Required for {Type(authentication_type).label}."]


@pytest.mark.parametrize(
    ("channel_type", "authentication_type"),
    [
        (LIVE, Type.OAUTH2_CODE),
        (LIVE, Type.OAUTH2_OPENID_CONNECT),
        (APPLE, Type.OAUTH2_IMPLICIT),
        (APPLE, Type.OAUTH2),
        (APPLE, Type.OPENID_CONNECT),
    ],
)
def test_an_authentication_type_that_does_not_fit_the_channel_is_refused(
    channel_type, authentication_type
):
    errors = errors_of(build_setting(authentication_type, channel_type=channel_type))
    assert "authentication_type" in errors
    assert errors["authentication_type"][0].startswith(f"{ChannelType(channel_type).label} takes")


def test_a_key_url_over_plain_http_is_refused_unless_its_host_is_allowed(settings):
    setting = build_setting(Type.OAUTH2_IMPLICIT, public_key_url="http://127.0.0.1:8000/keys")
    assert "Use an https URL" in errors_of(setting)["public_key_url"][0]
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    setting.full_clean()


def test_a_url_carrying_credentials_is_refused():
    setting = build_setting(
        Type.OAUTH2_CODE, access_token_url="https://user:pw@id.example.com/token"
    )
    assert errors_of(setting)["access_token_url"] == [
        "Remove the user name and password from the URL."
    ]


@pytest.mark.parametrize("name", ["auth.get-token", "1auth.get", "auth..get", "alert(1)", "a b"])
def test_the_javascript_client_function_must_be_a_dotted_name(name):
    errors = errors_of(build_setting(Type.OAUTH2_IMPLICIT, javascript_client_function=name))
    assert "dotted JavaScript name" in errors["javascript_client_function"][0]


def test_the_token_custom_action_must_be_registered(settings):
    errors = errors_of(build_setting(Type.OAUTH2, token_custom_action="lookup_crm"))
    assert "userinfo, id_token" in errors["token_custom_action"][0]
    settings.CC_TOKEN_ACTIONS = {"lookup_crm": "myproject.actions.lookup_crm"}
    build_setting(Type.OAUTH2, token_custom_action="lookup_crm").full_clean()


@pytest.mark.parametrize("authentication_type", [Type.OPENID_CONNECT, Type.OAUTH2_OPENID_CONNECT])
def test_openid_connect_flows_need_openid_in_the_scope(authentication_type):
    errors = errors_of(build_setting(authentication_type, scope="profile email"))
    assert errors["scope"] == ["Include openid in the scope for an OpenID Connect flow."]


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (["prompt"], "Give an object of names and text values"),
        ({"prompt": 1}, "The value of prompt must be text."),
        ({"client_secret": "x"}, "client_secret is set by the platform; remove it."),
        ({" ": "x"}, "A parameter name cannot be empty."),
    ],
)
def test_additional_parameters_are_names_with_text_values(parameters, message):
    errors = errors_of(build_setting(Type.OAUTH2_OPENID_CONNECT, additional_parameters=parameters))
    assert errors["additional_parameters"][0].startswith(message)


def test_only_the_apple_openid_connect_flow_takes_additional_parameters():
    errors = errors_of(build_setting(Type.OAUTH2_CODE, additional_parameters={"prompt": "login"}))
    assert errors["additional_parameters"] == [
        "Only the OAuth 2.0 OpenID Connect flow takes additional parameters."
    ]


# field: (a type that has it, the shortest and the longest lifetime allowed in seconds)
LIFETIME_BOUNDS = {
    "access_token_expiry_seconds": (Type.OAUTH2_CODE, 60, 86400),  # a minute to a day
    "max_refresh_token_lifetime_seconds": (Type.OPENID_CONNECT, 900, 7776000),  # 15 min to 90 days
}


@pytest.mark.parametrize("field", list(LIFETIME_BOUNDS))
def test_a_token_lifetime_is_accepted_at_its_bounds_and_refused_beyond_them(field):
    authentication_type, shortest, longest = LIFETIME_BOUNDS[field]
    for seconds in (shortest, longest):
        build_setting(authentication_type, **{field: seconds}).full_clean()
    for seconds in (shortest - 1, longest + 1):
        assert field in errors_of(build_setting(authentication_type, **{field: seconds}))


def test_defaults_are_an_hour_of_access_and_a_day_of_refresh():
    setting = build_setting(Type.OAUTH2_CODE)
    assert setting.access_token_expiry_seconds == 3600
    assert setting.max_refresh_token_lifetime_seconds == 86400


def test_names_are_unique():
    build_setting(Type.OAUTH2_IMPLICIT, name="Portal").save()
    assert "name" in errors_of(build_setting(Type.OAUTH2_IMPLICIT, name="Portal"))


def test_an_apple_setting_needs_an_authentication_rich_message(authentication_message):
    from messaging.models import RichMessage

    setting = build_setting(Type.OAUTH2_CODE)
    picker = RichMessage.objects.create(name="Pick", type=RichMessage.Type.LIST_PICKER)
    with pytest.raises(ValidationError) as caught:
        setting.validate_rich_messages([])
    assert caught.value.message_dict["rich_messages"] == [
        "Add at least one rich message of type authentication."
    ]
    with pytest.raises(ValidationError):
        setting.validate_rich_messages([picker])
    setting.validate_rich_messages([picker, authentication_message])


def test_a_live_chat_setting_takes_no_rich_messages(authentication_message):
    with pytest.raises(ValidationError) as caught:
        build_setting(Type.OAUTH2_IMPLICIT).validate_rich_messages([authentication_message])
    assert caught.value.message_dict["rich_messages"] == [
        "Only Apple Messages for Business settings take rich messages."
    ]


def test_an_implicit_setting_may_expect_an_audience():
    setting = build_setting(Type.OAUTH2_IMPLICIT, expected_audience="https://chat.example.com")
    setting.full_clean()
    setting.save()
    assert AuthenticationSetting.objects.get(pk=setting.pk).expected_audience == (
        "https://chat.example.com"
    )


@pytest.mark.parametrize(
    "authentication_type", [kind for kind in Type if kind != Type.OAUTH2_IMPLICIT]
)
def test_only_an_implicit_setting_takes_an_expected_audience(authentication_type):
    errors = errors_of(
        build_setting(authentication_type, expected_audience="https://chat.example.com")
    )
    assert errors == {
        "expected_audience": [
            "Only the OAuth 2.0 implicit flow checks an audience; leave it empty."
        ]
    }


def test_an_expected_audience_is_at_most_255_characters():
    build_setting(Type.OAUTH2_IMPLICIT, expected_audience="a" * 255).full_clean()
    errors = errors_of(build_setting(Type.OAUTH2_IMPLICIT, expected_audience="a" * 256))
    assert errors["expected_audience"] == [
        "Ensure this value has at most 255 characters (it has 256)."
    ]


@pytest.mark.parametrize("authentication_type", list(Type))
def test_every_setting_links_contacts_unless_turned_off(authentication_type):
    assert build_setting(authentication_type).link_contacts is True
    setting = build_setting(authentication_type, link_contacts=False)
    setting.full_clean()


@pytest.mark.parametrize("authentication_type", list(Type))
def test_every_type_but_the_implicit_flow_needs_a_client_secret(authentication_type):
    needs_secret = AuthenticationSetting.needs_client_secret(authentication_type)
    assert needs_secret is (authentication_type != Type.OAUTH2_IMPLICIT)


def test_only_those_with_the_permission_may_set_secrets(alice, diane):
    assert AuthenticationSetting.may_set_secrets(alice)
    assert not AuthenticationSetting.may_set_secrets(diane)
    assert not AuthenticationSetting.may_set_secrets(None)


def test_only_changes_that_would_send_a_stored_secret_elsewhere_are_bound_to_it():
    setting = build_setting(Type.OPENID_CONNECT)
    moved = {"discovery_uri": "https://elsewhere.example/.well-known/openid-configuration"}
    assert setting.secret_bound_changes({**moved, "scope": "openid email"}) == ["discovery_uri"]
    assert setting.secret_bound_changes({"discovery_uri": setting.discovery_uri}) == []
    assert build_setting(Type.OAUTH2_IMPLICIT).secret_bound_changes(moved) == []
