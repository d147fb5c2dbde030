"""Each resource is created, read, listed, changed and deleted by an API client with a token."""

from __future__ import annotations

import pytest
from django.test import Client

from authsettings.models import AuthenticationSetting
from messaging.models import Contact
from tests.api_clients import results
from tests.helpers import PASSWORD, Type, make_setting

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def world(workstream, implicit_setting, chat_widget) -> dict:
    return {"workstream": workstream, "setting": implicit_setting, "widget": chat_widget}


# path: (payload to create, a change for PATCH)
RESOURCES = {
    "authentication-settings": (
        lambda w: {
            "name": "Partner portal",
            "channel_type": "live_chat",
            "authentication_type": "oauth2_implicit",
            "public_key_url": "https://partners.example.com/auth/publickey",
            "javascript_client_function": "partners.getToken",
        },
        {"expected_issuer": "https://partners.example.com"},
    ),
    "workstreams": (
        lambda w: {"name": "Support", "channel_type": "live_chat"},
        {"name": "Support desk"},
    ),
    "context-variables": (
        lambda w: {"workstream": w["workstream"].pk, "name": "portalcontactid", "type": "text"},
        {"display_to_agent": False},
    ),
    "queues": (
        lambda w: {"name": "VIP customers", "workstream": w["workstream"].pk},
        {"name": "Very important customers"},
    ),
    "routing-rules": (
        lambda w: {
            "workstream": w["workstream"].pk,
            "name": "VIPs first",
            "order": 1,
            "conditions": [{"variable": "msdyn_isvip", "operator": "eq", "value": True}],
            "queue": w["workstream"].default_queue_id,
            "priority": 5,
        },
        {"priority": 10},
    ),
    "rich-messages": (
        lambda w: {
            "name": "Sign in",
            "channel_type": "apple_messages_for_business",
            "type": "authentication",
            "content": {"received_message": "Please sign in", "reply_message": "Thank you"},
        },
        {"name": "Sign in, please"},
    ),
    "channel-instances": (
        lambda w: {
            "name": "Help widget",
            "kind": "chat_widget",
            "workstream": w["workstream"].pk,
            "authentication_setting": w["setting"].pk,
        },
        {"allow_session_upgrade": True},
    ),
    "deployments": (
        lambda w: {
            "name": "Help site",
            "channel_instance": w["widget"].pk,
            "allowed_domains": ["help.example.com"],
        },
        {"status": "inactive"},
    ),
    "contacts": (
        lambda w: {"full_name": "Ada Lovelace", "email": "ada@example.com"},
        {"status": "inactive"},
    ),
}


@pytest.mark.parametrize("path", list(RESOURCES))
def test_an_api_client_creates_reads_lists_changes_and_deletes_a_record(api, world, path):
    make_payload, change = RESOURCES[path]
    payload = make_payload(world)

    created = api.post(f"/api/v1/{path}/", payload)
    assert created.status_code == 201, created.content
    record = created.json()
    assert {"id", "created_at", "modified_at"} <= record.keys()
    assert {name: record[name] for name in payload} == payload
    url = f"/api/v1/{path}/{record['id']}/"

    assert api.get(url).json() == record
    assert record in results(api.get(f"/api/v1/{path}/"))

    replaced = api.put(url, {**payload, "name" if "name" in payload else "full_name": "Renamed"})
    assert replaced.status_code == 200, replaced.content
    patched = api.patch(url, change)
    assert patched.status_code == 200, patched.content
    assert {name: patched.json()[name] for name in change} == change
    assert api.get(url).json() == patched.json()

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_a_list_is_paginated(api, workstream):
    response = api.get("/api/v1/context-variables/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert body["next"] is None and body["previous"] is None


def test_a_setting_is_owned_by_the_api_clients_user_whatever_the_request_says(api, alice):
    payload = {**RESOURCES["authentication-settings"][0]({}), "owner": "alice"}
    created = api.post("/api/v1/authentication-settings/", payload).json()
    assert created["owner"].startswith("api-client-")
    assert AuthenticationSetting.objects.get(pk=created["id"]).owner.username == created["owner"]


def test_a_setting_made_in_the_browsable_api_is_owned_by_the_staff_member(alice):
    client = Client()
    client.login(username="alice", password=PASSWORD)
    created = client.post(
        "/api/v1/authentication-settings/",
        RESOURCES["authentication-settings"][0]({}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == "alice"


def test_read_only_fields_sent_by_a_client_are_ignored(api, world):
    sent = {
        "id": 999,
        "widget_id": "00000000-0000-0000-0000-000000000000",
        "created_at": "2000-01-01T00:00:00Z",
        "modified_at": "2000-01-01T00:00:00Z",
    }
    created = api.post(
        "/api/v1/channel-instances/", {**RESOURCES["channel-instances"][0](world), **sent}
    ).json()
    for name, value in sent.items():
        assert created[name] != value

    deployment = api.post(
        "/api/v1/deployments/",
        {
            **RESOURCES["deployments"][0](world),
            "deployment_id": "00000000-0000-0000-0000-000000000000",
            "snippet": "<script>alert(1)</script>",
            "mobile": {"deployment_id": "x", "domain": "evil.example.com"},
        },
    ).json()
    assert deployment["deployment_id"] != "00000000-0000-0000-0000-000000000000"
    assert "alert" not in deployment["snippet"]
    assert deployment["mobile"]["domain"] == "testserver"


def test_require_authentication_defaults_to_whether_a_setting_is_given(api, world):
    with_setting = api.post("/api/v1/channel-instances/", RESOURCES["channel-instances"][0](world))
    assert with_setting.json()["require_authentication"] is True
    without = api.post(
        "/api/v1/channel-instances/",
        {"name": "Open widget", "kind": "chat_widget", "workstream": world["workstream"].pk},
    )
    assert without.status_code == 201, without.content
    assert without.json()["require_authentication"] is False
    assert without.json()["authentication_setting"] is None


def test_the_redirect_url_of_the_apple_openid_connect_flow_is_the_platforms_callback(
    api, authentication_message
):
    payload = {
        "name": "Apple sign-in",
        "channel_type": "apple_messages_for_business",
        "authentication_type": "oauth2_openid_connect",
        "client_id": "apple",
        "client_secret": "apple-secret-value",
        "scope": "openid email",
        "access_token_url": "https://id.example.com/token",
        "decrypted_token_url": "https://id.example.com/me",
        "redirect_url": "https://evil.example.com/steal",
        "rich_messages": [authentication_message.pk],
    }
    created = api.post("/api/v1/authentication-settings/", payload)
    assert created.status_code == 201, created.content
    setting_id = created.json()["id"]
    callback = f"http://testserver/apple/auth/{setting_id}/callback"
    assert created.json()["redirect_url"] == callback
    assert api.get(f"/api/v1/authentication-settings/{setting_id}/").json()["redirect_url"] == (
        callback
    )
    assert AuthenticationSetting.objects.get(pk=setting_id).redirect_url == ""


def test_the_apple_redirect_url_is_on_the_public_url_when_one_is_set(api, settings):
    settings.CC_PUBLIC_URL = "https://cc.example.com"
    setting = make_setting(Type.OAUTH2_OPENID_CONNECT)

    body = api.get(f"/api/v1/authentication-settings/{setting.pk}/").json()

    assert body["redirect_url"] == f"https://cc.example.com/apple/auth/{setting.pk}/callback"


def test_a_deployment_shows_its_snippet_and_mobile_settings_for_the_address_it_was_read_at(
    api, deployment, settings
):
    settings.ALLOWED_HOSTS = ["cc.example.com"]
    body = api.get(
        f"/api/v1/deployments/{deployment.pk}/", HTTP_HOST="cc.example.com", secure=True
    ).json()
    assert body["snippet"] == deployment.snippet("https://cc.example.com")
    assert 'src="https://cc.example.com/widget/loader.js"' in body["snippet"]
    assert body["mobile"] == {
        "deployment_id": str(deployment.deployment_id),
        "domain": "cc.example.com",
    }
    assert body["allowed_domains"] == ["portal.example.com"]


def test_allowed_domains_are_saved_as_the_model_normalizes_them(api, chat_widget):
    created = api.post(
        "/api/v1/deployments/",
        {
            "name": "Shop",
            "channel_instance": chat_widget.pk,
            "allowed_domains": ["Shop.Example.com.", "shop.example.com"],
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["allowed_domains"] == ["shop.example.com"]


def test_a_workstream_lists_its_context_variables(api, workstream):
    body = api.get(f"/api/v1/workstreams/{workstream.pk}/").json()
    assert body["default_queue"] == workstream.default_queue_id
    assert [(v["name"], v["type"], v["display_to_agent"]) for v in body["context_variables"]] == [
        ("msdyn_cartvalue", "number", True),
        ("msdyn_isvip", "boolean", True),
    ]
    assert set(body["context_variables"][0]) == {"id", "name", "type", "display_to_agent"}


def test_a_workstream_is_created_before_its_default_queue(api):
    workstream = api.post("/api/v1/workstreams/", {"name": "Sales", "channel_type": "live_chat"})
    assert workstream.json()["default_queue"] is None
    url = f"/api/v1/workstreams/{workstream.json()['id']}/"
    queue = api.post("/api/v1/queues/", {"name": "Sales", "workstream": workstream.json()["id"]})
    patched = api.patch(url, {"default_queue": queue.json()["id"]})
    assert patched.status_code == 200, patched.content
    assert patched.json()["default_queue"] == queue.json()["id"]


def test_a_contact_id_may_be_chosen_on_create_and_is_fixed_afterwards(api):
    chosen = "4f9c2a9e-8a3b-4c55-9d0e-2f6b7c1d2e3f"
    created = api.post("/api/v1/contacts/", {"id": chosen, "full_name": "Grace Hopper"})
    assert created.status_code == 201, created.content
    assert created.json()["id"] == chosen
    patched = api.patch(
        f"/api/v1/contacts/{chosen}/", {"id": "11111111-1111-1111-1111-111111111111"}
    )
    assert patched.status_code == 200
    assert patched.json()["id"] == chosen
    assert [str(pk) for pk in Contact.objects.values_list("id", flat=True)] == [chosen]


def test_a_record_still_in_use_is_not_deleted(api, chat_widget, workstream):
    response = api.delete(f"/api/v1/workstreams/{workstream.pk}/")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "This workstream is still used by 1 channel instance; change those first."
    )
    assert api.get(f"/api/v1/workstreams/{workstream.pk}/").status_code == 200
