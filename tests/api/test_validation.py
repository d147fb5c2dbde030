"""The API refuses what the models refuse, with 400 and the field named (CONTRACT.md rules)."""

from __future__ import annotations

import pytest

from authsettings.models import AuthenticationSetting
from messaging.models import ChannelInstance, RichMessage
from tests.helpers import APPLE, LIVE, VALID_SETTINGS, Type
from workstreams.models import ContextVariable, Queue, Workstream

pytestmark = pytest.mark.django_db


def refused(response, field: str) -> list[str]:
    """The messages for `field` of a 400 response."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body, body
    assert all(isinstance(message, str) for message in body[field])
    return body[field]


@pytest.fixture
def create_setting(api, authentication_message):
    def create(kind, **changes):
        payload = {
            "name": f"{kind} setting",
            "authentication_type": kind,
            **VALID_SETTINGS[kind],
            **changes,
        }
        if payload["channel_type"] == APPLE:
            payload.setdefault("rich_messages", [authentication_message.pk])
        payload = {name: value for name, value in payload.items() if value is not None}
        return api.post("/api/v1/authentication-settings/", payload)

    return create


@pytest.mark.parametrize("authentication_type", list(Type))
def test_a_complete_setting_of_each_type_is_created(create_setting, authentication_type):
    assert create_setting(authentication_type).status_code == 201


@pytest.mark.parametrize(
    ("channel_type", "authentication_type"),
    [(LIVE, Type.OAUTH2_CODE), (LIVE, Type.OAUTH2_OPENID_CONNECT), (APPLE, Type.OAUTH2_IMPLICIT)],
)
def test_the_authentication_type_must_fit_the_channel_type(
    create_setting, channel_type, authentication_type
):
    response = create_setting(authentication_type, channel_type=channel_type, rich_messages=[])
    assert refused(response, "authentication_type")


@pytest.mark.parametrize(
    ("authentication_type", "field"),
    [
        (kind, field)
        for kind, fields in AuthenticationSetting.REQUIRED_FIELDS.items()
        for field in fields
        if field in VALID_SETTINGS[kind]
    ],
)
def test_each_required_field_of_a_type_is_named_when_missing(
    create_setting, authentication_type, field
):
    response = create_setting(authentication_type, **{field: None})
    assert refused(response, field) == [f"Required for {Type(authentication_type).label}."]


@pytest.mark.parametrize("authentication_type", AuthenticationSetting.OPENID_TYPES)
def test_openid_connect_flows_need_openid_in_the_scope(create_setting, authentication_type):
    response = create_setting(authentication_type, scope="profile email")
    assert refused(response, "scope") == ["Include openid in the scope for an OpenID Connect flow."]


@pytest.mark.parametrize(
    ("authentication_type", "parameters"),
    [
        (Type.OAUTH2_OPENID_CONNECT, {"prompt": 1}),
        (Type.OAUTH2_OPENID_CONNECT, {"client_secret": "x"}),
        (Type.OAUTH2_OPENID_CONNECT, ["prompt"]),
        (Type.OAUTH2_CODE, {"prompt": "login"}),
        (Type.OPENID_CONNECT, {"prompt": "login"}),
    ],
)
def test_additional_parameters_are_text_values_of_the_apple_openid_connect_flow_only(
    create_setting, authentication_type, parameters
):
    response = create_setting(authentication_type, additional_parameters=parameters)
    assert refused(response, "additional_parameters")


def test_additional_parameters_of_the_apple_openid_connect_flow_are_kept(create_setting):
    response = create_setting(Type.OAUTH2_OPENID_CONNECT, additional_parameters={"prompt": "login"})
    assert response.status_code == 201
    assert response.json()["additional_parameters"] == {"prompt": "login"}


@pytest.mark.parametrize(
    ("seconds", "valid"), [(59, False), (60, True), (86400, True), (86401, False)]
)
def test_the_access_token_expiry_is_between_a_minute_and_a_day(create_setting, seconds, valid):
    response = create_setting(Type.OAUTH2_CODE, access_token_expiry_seconds=seconds)
    if valid:
        assert response.status_code == 201
    else:
        assert refused(response, "access_token_expiry_seconds")


@pytest.mark.parametrize(
    ("seconds", "valid"), [(899, False), (900, True), (7776000, True), (7776001, False)]
)
def test_the_refresh_token_lifetime_is_between_15_minutes_and_90_days(
    create_setting, seconds, valid
):
    response = create_setting(Type.OPENID_CONNECT, max_refresh_token_lifetime_seconds=seconds)
    if valid:
        assert response.status_code == 201
    else:
        assert refused(response, "max_refresh_token_lifetime_seconds")


def test_the_defaults_are_an_hour_of_access_and_a_day_of_refresh(create_setting):
    body = create_setting(Type.OPENID_CONNECT).json()
    assert body["access_token_expiry_seconds"] == 3600
    assert body["max_refresh_token_lifetime_seconds"] == 86400


@pytest.mark.parametrize("authentication_type", AuthenticationSetting.APPLE_TYPES)
def test_an_apple_setting_needs_an_authentication_rich_message(create_setting, authentication_type):
    quick_reply = RichMessage.objects.create(name="Menu", type=RichMessage.Type.QUICK_REPLY)
    for rich_messages in ([], [quick_reply.pk]):
        response = create_setting(authentication_type, rich_messages=rich_messages)
        assert refused(response, "rich_messages") == [
            "Add at least one rich message of type authentication."
        ]


def test_a_live_chat_setting_takes_no_rich_messages(create_setting, authentication_message):
    response = create_setting(Type.OAUTH2_IMPLICIT, rich_messages=[authentication_message.pk])
    assert refused(response, "rich_messages")


def test_a_setting_keeps_its_rich_messages_when_a_change_leaves_them_out(api, create_setting):
    created = create_setting(Type.OAUTH2_CODE).json()
    response = api.patch(
        f"/api/v1/authentication-settings/{created['id']}/", {"client_id": "apple-2"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["rich_messages"] == created["rich_messages"]


def test_setting_names_are_unique(create_setting):
    create_setting(Type.OAUTH2_IMPLICIT)
    assert refused(create_setting(Type.OAUTH2_IMPLICIT), "name")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("public_key_url", "http://portal.example.com/keys"),
        ("public_key_url", "https://user:pw@portal.example.com/keys"),
        ("public_key_url", "not a url"),
        ("javascript_client_function", "auth.get-token()"),
        ("channel_type", "sms"),
        ("authentication_type", "saml"),
    ],
)
def test_malformed_setting_values_are_named(create_setting, field, value):
    assert refused(create_setting(Type.OAUTH2_IMPLICIT, **{field: value}), field)


def test_the_token_custom_action_must_be_registered(create_setting):
    assert refused(create_setting(Type.OAUTH2, token_custom_action="magic"), "token_custom_action")


def test_a_change_is_checked_against_the_stored_record(api, implicit_setting):
    response = api.patch(
        f"/api/v1/authentication-settings/{implicit_setting.pk}/",
        {"authentication_type": "openid_connect"},
    )
    for field in ("discovery_uri", "client_id", "client_secret", "scope"):
        assert refused(response, field)
    implicit_setting.refresh_from_db()
    assert implicit_setting.authentication_type == Type.OAUTH2_IMPLICIT


def context_variable(api, workstream, name, **extra):
    return api.post(
        "/api/v1/context-variables/",
        {"workstream": workstream.pk, "name": name, "type": "text", **extra},
    )


@pytest.mark.parametrize("name", ["", " padded", "tab\tinside", "x" * 101])
def test_a_context_variable_name_is_1_to_100_plain_characters(api, workstream, name):
    assert refused(context_variable(api, workstream, name), "name")


def test_context_variable_names_are_case_sensitive_and_unique_per_workstream(api, workstream):
    assert context_variable(api, workstream, "MSDYN_CARTVALUE").status_code == 201
    assert refused(context_variable(api, workstream, "msdyn_cartvalue"), "name")
    other = Workstream.objects.create(name="Other", channel_type=LIVE)
    assert context_variable(api, other, "msdyn_cartvalue").status_code == 201


def test_a_workstream_holds_at_most_100_context_variables(api, workstream):
    ContextVariable.objects.bulk_create(
        ContextVariable(workstream=workstream, name=f"v{number}") for number in range(98)
    )
    assert refused(context_variable(api, workstream, "one_too_many"), "workstream")


def test_a_context_variable_type_is_text_number_or_boolean(api, workstream):
    assert refused(context_variable(api, workstream, "when", type="date"), "type")


def rule(api, workstream, conditions, **extra):
    return api.post(
        "/api/v1/routing-rules/",
        {
            "workstream": workstream.pk,
            "name": "Rule",
            "order": 1,
            "conditions": conditions,
            "queue": workstream.default_queue_id,
            **extra,
        },
    )


@pytest.mark.parametrize(
    "conditions",
    [
        {"variable": "authenticated"},
        ["authenticated"],
        [{"variable": "authenticated", "operator": "eq", "value": True, "extra": 1}],
        [{"variable": "msdyn_unknown", "operator": "eq", "value": 1}],
        [{"variable": "msdyn_cartvalue", "operator": "between", "value": 1}],
        [{"variable": "msdyn_isvip", "operator": "gt", "value": 1}],
        [{"variable": "msdyn_cartvalue", "operator": "contains", "value": "1"}],
        [{"variable": "msdyn_cartvalue", "operator": "ge", "value": "abc"}],
        [{"variable": "msdyn_cartvalue", "operator": "ge"}],
        [{"variable": ["msdyn_cartvalue"], "operator": "eq", "value": 1}],
        [{"variable": "msdyn_cartvalue", "operator": {"eq": 1}, "value": 1}],
    ],
)
def test_routing_rule_conditions_are_checked_against_the_workstreams_variables(
    api, workstream, conditions
):
    assert refused(rule(api, workstream, conditions), "conditions")


def test_a_routing_rule_with_fitting_conditions_is_created(api, workstream):
    conditions = [
        {"variable": "authenticated", "operator": "eq", "value": True},
        {"variable": "msdyn_cartvalue", "operator": "ge", "value": "1000"},
        {"variable": "msdyn_isvip", "operator": "exists"},
    ]
    response = rule(api, workstream, conditions)
    assert response.status_code == 201, response.content
    assert response.json()["conditions"] == conditions


def test_a_routing_rule_routes_to_a_queue_of_its_workstream(api, workstream):
    other = Workstream.objects.create(name="Other", channel_type=LIVE)
    foreign = Queue.objects.create(name="Elsewhere", workstream=other)
    assert refused(rule(api, workstream, [], queue=foreign.pk), "queue")


def test_the_default_queue_belongs_to_the_workstream(api, workstream):
    other = Workstream.objects.create(name="Other", channel_type=LIVE)
    response = api.patch(
        f"/api/v1/workstreams/{other.pk}/", {"default_queue": workstream.default_queue_id}
    )
    assert refused(response, "default_queue")


def test_queue_names_are_unique_per_workstream(api, workstream):
    response = api.post("/api/v1/queues/", {"name": "General", "workstream": workstream.pk})
    assert refused(response, "name")


@pytest.fixture
def apple_workstream(db):
    return Workstream.objects.create(name="Apple", channel_type=APPLE)


def channel(api, **fields):
    return api.post(
        "/api/v1/channel-instances/", {"name": "Channel", "kind": "chat_widget", **fields}
    )


def test_a_chat_widget_needs_a_live_chat_workstream(api, apple_workstream):
    assert refused(channel(api, workstream=apple_workstream.pk), "workstream")


def test_an_apple_channel_needs_an_apple_workstream(api, workstream):
    response = channel(api, kind="apple_messages_for_business", workstream=workstream.pk)
    assert refused(response, "workstream")


def test_a_channels_authentication_setting_must_fit_its_kind(
    api, apple_workstream, implicit_setting
):
    response = channel(
        api,
        kind="apple_messages_for_business",
        workstream=apple_workstream.pk,
        authentication_setting=implicit_setting.pk,
    )
    assert refused(response, "authentication_setting")


def test_requiring_authentication_needs_a_setting(api, workstream):
    response = channel(api, workstream=workstream.pk, require_authentication=True)
    assert refused(response, "require_authentication")


def test_removing_the_setting_of_a_widget_that_requires_authentication_is_refused(api, chat_widget):
    response = api.patch(
        f"/api/v1/channel-instances/{chat_widget.pk}/", {"authentication_setting": None}
    )
    assert refused(response, "require_authentication")


def deployment(api, channel_instance, **fields):
    return api.post(
        "/api/v1/deployments/", {"name": "Site", "channel_instance": channel_instance.pk, **fields}
    )


def test_a_deployment_runs_a_chat_widget(api, apple_workstream):
    apple = ChannelInstance.objects.create(
        name="Apple",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=apple_workstream,
        require_authentication=False,
    )
    assert refused(deployment(api, apple), "channel_instance")


def test_allow_all_domains_goes_only_with_an_empty_list(api, chat_widget):
    response = deployment(
        api, chat_widget, allowed_domains=["a.example.com"], allow_all_domains=True
    )
    assert refused(response, "allow_all_domains")
    assert deployment(api, chat_widget, allow_all_domains=True).status_code == 201


@pytest.mark.parametrize(
    "domains", ["a.example.com", ["https://a.example.com"], ["a.example.com:0"], [""], [1]]
)
def test_allowed_domains_are_a_list_of_bare_host_names(api, chat_widget, domains):
    assert refused(deployment(api, chat_widget, allowed_domains=domains), "allowed_domains")


def rich_message(api, content, **fields):
    return api.post(
        "/api/v1/rich-messages/",
        {"name": "Sign in", "type": "authentication", "content": content, **fields},
    )


@pytest.mark.parametrize(
    "content",
    [
        {"received_message": "Please sign in"},
        {"reply_message": "Thanks"},
        {"received_message": "", "reply_message": "Thanks"},
        {"received_message": "x" * 1001, "reply_message": "Thanks"},
        {"received_message": 1, "reply_message": "Thanks"},
        ["received_message", "reply_message"],
    ],
)
def test_an_authentication_rich_message_has_both_texts(api, content):
    assert refused(rich_message(api, content), "content")


def test_a_rich_message_type_is_one_of_the_contract(api):
    response = rich_message(api, {}, type="carousel")
    assert refused(response, "type")


def test_a_contact_id_is_used_once(api):
    chosen = "4f9c2a9e-8a3b-4c55-9d0e-2f6b7c1d2e3f"
    api.post("/api/v1/contacts/", {"id": chosen, "full_name": "Grace Hopper"})
    response = api.post("/api/v1/contacts/", {"id": chosen, "full_name": "Someone else"})
    assert refused(response, "id")


def test_text_with_a_nul_character_is_refused_before_it_reaches_the_database(api, workstream):
    response = rule(api, workstream, [{"variable": "authenticated\x00", "operator": "eq"}])
    assert refused(response, "conditions")
    assert refused(
        api.post("/api/v1/queues/", {"name": "a\x00b", "workstream": workstream.pk}), "name"
    )
