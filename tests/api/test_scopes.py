"""Who may do what: scopes for API clients, model permissions for staff, 401 and 403."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from messaging.models import Conversation
from tests.api_clients import CONFIG_PATHS, bearer, create_api_client, fetch_token
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

SCOPE_SETS = ["config:read", "config:write", "conversations:read", "config:read config:write"]


@pytest.fixture
def conversation(chat_widget, workstream):
    return Conversation.objects.create(channel_instance=chat_widget, queue=workstream.default_queue)


def expected(scopes: str, needed: str, allowed: int) -> int:
    return allowed if needed in scopes.split() else 403


@pytest.mark.parametrize("scopes", SCOPE_SETS)
def test_configuration_reads_need_config_read_and_writes_config_write(
    api_client_for, scopes, workstream
):
    client = api_client_for(scopes)
    detail = f"/api/v1/workstreams/{workstream.pk}/"
    assert client.get("/api/v1/workstreams/").status_code == expected(scopes, "config:read", 200)
    assert client.get(detail).status_code == expected(scopes, "config:read", 200)
    assert client.options(detail).status_code == expected(scopes, "config:read", 200)
    created = client.post("/api/v1/workstreams/", {"name": "New", "channel_type": "live_chat"})
    assert created.status_code == expected(scopes, "config:write", 201)
    assert client.put(detail, {"name": "Web", "channel_type": "live_chat"}).status_code == (
        expected(scopes, "config:write", 200)
    )
    assert client.patch(detail, {"name": "Web chat"}).status_code == (
        expected(scopes, "config:write", 200)
    )
    queue = f"/api/v1/queues/{workstream.default_queue_id}/"
    assert client.delete(queue).status_code == expected(scopes, "config:write", 204)


@pytest.mark.parametrize("path", CONFIG_PATHS)
def test_every_configuration_resource_checks_the_scope_before_the_request_body(
    api_client_for, path
):
    reader, writer = api_client_for("config:read"), api_client_for("config:write")
    conversations = api_client_for("conversations:read")
    assert reader.get(f"/api/v1/{path}/").status_code == 200
    assert writer.get(f"/api/v1/{path}/").status_code == 403
    assert conversations.get(f"/api/v1/{path}/").status_code == 403
    assert reader.post(f"/api/v1/{path}/", {}).status_code == 403
    assert conversations.post(f"/api/v1/{path}/", {}).status_code == 403
    assert writer.post(f"/api/v1/{path}/", {}).status_code == 400


@pytest.mark.parametrize("scopes", SCOPE_SETS)
def test_conversations_are_read_with_conversations_read_only(api_client_for, scopes, conversation):
    client = api_client_for(scopes)
    detail = f"/api/v1/conversations/{conversation.pk}/"
    assert client.get("/api/v1/conversations/").status_code == (
        expected(scopes, "conversations:read", 200)
    )
    assert client.get(detail).status_code == expected(scopes, "conversations:read", 200)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_conversations_cannot_be_changed_through_the_api(api, conversation, method):
    path = (
        "/api/v1/conversations/"
        if method == "post"
        else f"/api/v1/conversations/{conversation.pk}/"
    )
    assert getattr(api, method)(path, {}).status_code == 405
    assert Conversation.objects.filter(pk=conversation.pk).exists()


@pytest.mark.parametrize("path", [*CONFIG_PATHS, "conversations"])
def test_a_request_without_a_token_is_unauthorized(client, path):
    response = client.get(f"/api/v1/{path}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.post(f"/api/v1/{path}/", {}, content_type="application/json").status_code == 401


def test_a_malformed_or_unknown_token_is_unauthorized(db):
    assert bearer("not-a-token").get("/api/v1/workstreams/").status_code == 401
    assert APIClient(HTTP_AUTHORIZATION="Basic abc").get("/api/v1/workstreams/").status_code == 401


def test_an_expired_token_is_unauthorized(db):
    token = fetch_token(create_api_client("Reporting", "config:read"))["access_token"]
    client = bearer(token)
    assert client.get("/api/v1/workstreams/").status_code == 200
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/v1/workstreams/")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_a_revoked_token_is_unauthorized(db):
    credentials = create_api_client("Reporting", "config:read")
    token = fetch_token(credentials)["access_token"]
    client = bearer(token)
    assert client.get("/api/v1/workstreams/").status_code == 200
    revoked = Client().post("/o/revoke_token/", {"token": token, **credentials})
    assert revoked.status_code == 200
    assert client.get("/api/v1/workstreams/").status_code == 401


def test_a_token_asked_for_with_fewer_scopes_gets_only_those(db, workstream):
    credentials = create_api_client("Reporting", "config:read config:write")
    token = fetch_token(credentials, scope="config:read")
    assert token["scope"] == "config:read"
    client = bearer(token["access_token"])
    assert client.get("/api/v1/workstreams/").status_code == 200
    assert client.patch(f"/api/v1/workstreams/{workstream.pk}/", {"name": "x"}).status_code == 403


def test_the_index_lists_the_resources_for_any_api_client(api_client_for):
    response = api_client_for("conversations:read").get("/api/v1/")
    assert response.status_code == 200
    assert set(response.json()) == {*CONFIG_PATHS, "conversations"}


def staff_client(user, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_an_administrator_uses_the_browsable_api(alice, workstream):
    client = staff_client(alice)
    page = client.get("/api/v1/workstreams/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert "Web chat" in page.content.decode()
    assert 'name="_content"' in page.content.decode()  # the JSON form for POST
    created = client.post(
        "/api/v1/workstreams/",
        {"name": "Staff made", "channel_type": "live_chat"},
        content_type="application/json",
    )
    assert created.status_code == 201


def test_a_session_request_that_changes_something_needs_the_csrf_token(alice):
    client = staff_client(alice, csrf=True)
    payload = {"name": "Staff made", "channel_type": "live_chat"}
    refused = client.post("/api/v1/workstreams/", payload, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/admin/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/workstreams/", payload, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert accepted.status_code == 201


def test_staff_need_the_django_model_permission_for_each_method(diane, workstream):
    client = staff_client(diane)
    assert client.get("/api/v1/workstreams/").status_code == 403
    diane.user_permissions.add(Permission.objects.get(codename="view_workstream"))
    assert client.get("/api/v1/workstreams/").status_code == 200
    patch = {"name": "Renamed"}
    url = f"/api/v1/workstreams/{workstream.pk}/"
    assert client.patch(url, patch, content_type="application/json").status_code == 403
    diane.user_permissions.add(Permission.objects.get(codename="change_workstream"))
    assert client.patch(url, patch, content_type="application/json").status_code == 200


def test_people_without_staff_access_are_refused_even_with_permissions(charlie):
    charlie.user_permissions.add(Permission.objects.get(codename="view_workstream"))
    assert staff_client(charlie).get("/api/v1/workstreams/").status_code == 403


def test_an_agent_cannot_read_conversations_through_the_api(bob, conversation):
    assert staff_client(bob).get("/api/v1/conversations/").status_code == 403


def test_the_api_index_is_for_api_clients_and_staff_only(api, alice, charlie, client):
    assert api.get("/api/v1/").status_code == 200
    client.force_login(charlie)  # not staff
    assert client.get("/api/v1/", HTTP_ACCEPT="application/json").status_code == 403
    client.force_login(alice)
    assert client.get("/api/v1/", HTTP_ACCEPT="application/json").status_code == 200
