"""The OpenAPI schema describes the API as it is, and nothing it describes breaks the server."""

from __future__ import annotations

import re

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core.management import call_command
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from messaging.models import Contact, Conversation, Message, RichMessage
from tests.api_clients import ALL_SCOPES, CONFIG_PATHS, create_api_client, fetch_token
from workstreams.models import RoutingRule

pytestmark = pytest.mark.django_db

RESOURCES = {
    "AuthenticationSetting",
    "Workstream",
    "ContextVariable",
    "Queue",
    "RoutingRule",
    "RichMessage",
    "ChannelInstance",
    "Deployment",
    "Contact",
    "Conversation",
}


READ_ONLY = ("id", "created_at", "modified_at")


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_is_valid_openapi_and_builds_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


def test_every_resource_has_its_paths(schema):
    paths = schema["paths"]
    for path in CONFIG_PATHS:
        assert set(paths[f"/api/v1/{path}/"]) == {"get", "post"}
        assert set(paths[f"/api/v1/{path}/{{id}}/"]) == {"get", "put", "patch", "delete"}
    assert set(paths["/api/v1/conversations/"]) == {"get"}
    assert set(paths["/api/v1/conversations/{id}/"]) == {"get"}


def test_every_resource_reads_its_id_and_timestamps_only(schema):
    components = schema["components"]["schemas"]
    for name in RESOURCES:
        properties = components[name]["properties"]
        for field in ("created_at", "modified_at") if name == "Contact" else READ_ONLY:
            assert properties[field]["readOnly"] is True, (name, field)
        if f"{name}Request" in components:
            assert not {"created_at", "modified_at"} & set(
                components[f"{name}Request"]["properties"]
            )


def test_a_contacts_id_may_be_sent(schema):
    assert schema["components"]["schemas"]["ContactRequest"]["properties"]["id"] == {
        "type": "string",
        "format": "uuid",
        "description": "May be chosen on create; fixed afterwards.",
    }


def test_the_client_secret_is_write_only_and_its_presence_read_only(schema):
    components = schema["components"]["schemas"]
    assert "client_secret" not in components["AuthenticationSetting"]["properties"]
    assert components["AuthenticationSettingRequest"]["properties"]["client_secret"]["writeOnly"]
    assert components["AuthenticationSetting"]["properties"]["client_secret_set"] == {
        "type": "boolean",
        "readOnly": True,
        "description": "Whether a client secret is stored.",
    }


def test_an_authentication_settings_audience_and_contact_linking_are_read_and_written(schema):
    components = schema["components"]["schemas"]
    for component in ("AuthenticationSetting", "AuthenticationSettingRequest"):
        properties = components[component]["properties"]
        assert properties["expected_audience"]["type"] == "string", component
        assert properties["expected_audience"]["maxLength"] == 255, component
        assert properties["link_contacts"]["type"] == "boolean", component
    assert "link_contacts" not in components["AuthenticationSettingRequest"]["required"]


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("AuthenticationSetting", "owner"),
        ("Workstream", "context_variables"),
        ("ChannelInstance", "widget_id"),
        ("Deployment", "deployment_id"),
        ("Deployment", "snippet"),
        ("Deployment", "mobile"),
        ("Conversation", "authenticated"),
        ("ConversationDetail", "messages"),
    ],
)
def test_computed_fields_are_read_only(schema, component, field):
    components = schema["components"]["schemas"]
    assert components[component]["properties"][field]["readOnly"] is True
    assert field not in components.get(f"{component}Request", {}).get("properties", {})


def enum(schema, component, field) -> list[str]:
    components = schema["components"]["schemas"]
    reference = components[component]["properties"][field]
    if "allOf" in reference:
        reference = reference["allOf"][0]
    return components[reference["$ref"].rsplit("/", 1)[1]]["enum"]


@pytest.mark.parametrize(
    ("component", "field", "values"),
    [
        ("AuthenticationSetting", "channel_type", ["live_chat", "apple_messages_for_business"]),
        (
            "AuthenticationSetting",
            "authentication_type",
            ["oauth2_implicit", "oauth2", "openid_connect", "oauth2_code", "oauth2_openid_connect"],
        ),
        ("ContextVariable", "type", ["text", "number", "boolean"]),
        (
            "RichMessage",
            "type",
            ["authentication", "list_picker", "time_picker", "quick_reply", "rich_link", "form"],
        ),
        ("ChannelInstance", "kind", ["chat_widget", "apple_messages_for_business"]),
        ("Deployment", "status", ["active", "inactive"]),
        ("Contact", "status", ["active", "inactive"]),
        ("Conversation", "status", ["waiting", "active", "closed"]),
        ("MessageDetail", "sender", ["visitor", "agent", "system"]),
    ],
)
def test_choices_are_enums_with_the_contracts_values(schema, component, field, values):
    if component == "MessageDetail":
        component = "Message"
    assert enum(schema, component, field) == values


def test_structured_json_fields_are_described_item_by_item(schema):
    components = schema["components"]["schemas"]
    condition = components["RoutingRule"]["properties"]["conditions"]["items"]
    assert condition["properties"]["operator"]["enum"] == [
        "eq",
        "ne",
        "gt",
        "ge",
        "lt",
        "le",
        "contains",
        "exists",
    ]
    variables = components["Workstream"]["properties"]["context_variables"]
    assert variables["items"]["$ref"].endswith("/ContextVariableSummary")
    assert set(components["ContextVariableSummary"]["properties"]) == {
        "id",
        "name",
        "type",
        "display_to_agent",
    }


def test_each_operation_names_the_scope_it_needs(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            scopes = next(item["oauth2"] for item in operation["security"] if "oauth2" in item)
            if path.endswith("/request-authentication/"):
                assert scopes == ["conversations:write"]
            elif path.startswith("/api/v1/conversations/"):
                assert scopes == ["conversations:read"]
            else:
                assert scopes == ["config:read" if method == "get" else "config:write"]
    flow = schema["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/o/token/"
    assert set(flow["scopes"]) == set(ALL_SCOPES.split())


def test_the_docs_page_is_served_from_the_platform_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(
        r"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.[0-9a-f]{12}\.js", page
    )
    assert "cdn" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.fixture
def records(chat_widget, deployment, workstream, implicit_setting) -> dict[str, object]:
    """One record of each resource, so generated requests also reach existing ones."""
    conversation = Conversation.objects.create(
        channel_instance=chat_widget, queue=workstream.default_queue, context={"a": 1}
    )
    Message.objects.create(conversation=conversation, sender="visitor", text="Hello")
    return {
        "authentication-settings": implicit_setting.pk,
        "workstreams": workstream.pk,
        "context-variables": workstream.context_variables.first().pk,
        "queues": workstream.default_queue_id,
        "routing-rules": RoutingRule.objects.create(
            workstream=workstream, name="Rule", queue=workstream.default_queue
        ).pk,
        "rich-messages": RichMessage.objects.create(name="Menu", type="form").pk,
        "channel-instances": chat_widget.pk,
        "deployments": deployment.pk,
        "contacts": Contact.objects.create(full_name="Ada").pk,
        "conversations": conversation.pk,
    }


def cases_for(operation, records: dict[str, object]):
    """Generated requests, valid and invalid, half of them aimed at an existing record."""
    resource = operation.path.split("/")[3]
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if "{id}" in operation.path:
            strategies.append(
                operation.as_strategy(
                    generation_mode=mode, path_parameters={"id": records[resource]}
                )
            )
    return st.one_of(strategies)


@pytest.mark.django_db(transaction=True)
def test_no_generated_request_gets_a_server_error(live_server, records, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_client_read": None, "api_client_write": None},
    }
    token = fetch_token(create_api_client("Fuzzer", ALL_SCOPES))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    api = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")

    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=cases_for(operation, records))
        @hypothesis_settings(
            max_examples=10 if operation.method.upper() in ("POST", "PUT", "PATCH") else 5,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            response = case.call(base_url=live_server.url, headers=headers)
            assert response.status_code < 500, case.as_curl_command(headers=headers)

        check()
