"""The demo and API-client commands, as an operator runs them."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core import serializers
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from authsettings.models import AuthenticationSetting
from messaging.agent_rights import is_agent
from messaging.models import ChannelInstance, Contact, Deployment, RichMessage
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

DEMO_MODELS = [
    Application,
    AuthenticationSetting,
    ChannelInstance,
    Contact,
    ContextVariable,
    Deployment,
    Queue,
    RichMessage,
    RoutingRule,
    Workstream,
]


def run(command: str, *args, **options) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, **options)
    return out.getvalue()


def snapshot() -> str:
    records = [record for model in DEMO_MODELS for record in model.objects.order_by("pk")]
    users = get_user_model().objects.order_by("pk")
    return serializers.serialize("json", [*records, *users], fields=None)


@pytest.mark.django_db(transaction=True)
def test_the_demo_twice_in_a_row_leaves_the_same_data(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    first_output = run("demo")
    first = snapshot()
    second_output = run("demo")
    assert snapshot() == first
    assert "admin  password:" in first_output
    assert "admin  exists; its password is unchanged." in second_output
    workstream = Workstream.objects.get(name="Web chat")
    assert workstream.default_queue.name == "Anonymous customers"
    assert workstream.routing_rules.count() == 3
    widget = ChannelInstance.objects.get(name="Portal chat")
    assert widget.require_authentication
    assert widget.authentication_setting.javascript_client_function == (
        "auth.getAuthenticationToken"
    )


@pytest.mark.django_db(transaction=True)
def test_the_demo_apple_channel_signs_customers_in_at_the_platforms_provider(settings):
    settings.CC_PUBLIC_URL = "https://cc.example.com"
    run("demo")
    run("demo")

    channel = ChannelInstance.objects.get(kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS)
    setting = channel.authentication_setting
    application = Application.objects.get(client_id=setting.client_id)
    agent = get_user_model().objects.get(username="agent")
    assert channel.business_id
    assert not channel.require_authentication
    assert channel.workstream.channel_type == "apple_messages_for_business"
    assert {queue.name for queue in agent.queues.filter(workstream=channel.workstream)} == {
        "Apple customers",
        "Signed-in Apple customers",
    }
    assert (setting.authentication_type, setting.scope) == ("oauth2_openid_connect", "openid")
    assert setting.access_token_expiry_seconds == 120
    assert setting.access_token_url == "http://127.0.0.1:8000/o/token/"
    assert setting.decrypted_token_url == "http://127.0.0.1:8000/o/userinfo/"
    assert [message.type for message in setting.rich_messages.all()] == ["authentication"]
    assert application.redirect_uris == f"https://cc.example.com/apple/auth/{setting.pk}/callback"
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    # The secret is kept encrypted on the setting, and only hashed by the provider.
    assert application.client_secret != setting.client_secret
    assert check_password(setting.client_secret, application.client_secret)


@pytest.mark.django_db(transaction=True)
def test_the_demo_admin_can_log_in_with_the_password_given(client, monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "a demo password 123")
    output = run("demo")
    assert "a demo password 123" in output
    assert client.login(username="admin", password="a demo password 123")
    assert get_user_model().objects.get(username="agent").groups.filter(name="Agents").exists()


@pytest.mark.django_db(transaction=True)
def test_the_demo_agent_may_use_the_agent_console():
    run("demo")
    assert is_agent(get_user_model().objects.get(username="agent"))


@pytest.mark.django_db(transaction=True)
def test_the_demo_run_again_gives_its_agent_the_roles_the_console_needs():
    run("demo")
    get_user_model().objects.filter(username="agent").update(is_staff=False)

    run("demo")

    assert is_agent(get_user_model().objects.get(username="agent"))


def test_the_demo_data_keeps_the_models_rules(settings, db):
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    run("demo")
    for model in DEMO_MODELS:
        for record in model.objects.all():
            record.full_clean()


@pytest.mark.django_db(transaction=True)
def test_an_api_client_gets_a_token_with_the_printed_credentials(live_server):
    output = run("create_api_client", "Reporting", scopes="config:read conversations:read")
    lines = output.splitlines()
    assert len(lines) == 1
    credentials = json.loads(lines[0])
    assert set(credentials) == {"client_id", "client_secret"}

    response = httpx.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert sorted(token["scope"].split()) == ["config:read", "conversations:read"]


@pytest.mark.django_db(transaction=True)
def test_an_api_client_cannot_ask_for_a_scope_it_was_not_given(live_server):
    credentials = json.loads(run("create_api_client", "Reader", scopes="config:read"))
    response = httpx.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": "config:write"},
        auth=(credentials["client_id"], credentials["client_secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.django_db
def test_a_wrong_secret_gets_no_token(client):
    credentials = json.loads(run("create_api_client", "Reader", scopes="config:read"))
    response = client.post(
        "/o/token/",
        {
            "grant_type": "client_credentials",
            "client_id": credentials["client_id"],
            "client_secret": "wrong",
        },
    )
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("scopes", ["", "config:read admin", "openid"])
def test_unknown_scopes_are_refused_with_the_list_of_scopes(scopes):
    with pytest.raises(CommandError, match="choose config:read config:write conversations:read"):
        run("create_api_client", "Reporting", scopes=scopes)


@pytest.mark.django_db
def test_a_client_name_is_used_once():
    run("create_api_client", "Reporting", scopes="config:read")
    with pytest.raises(CommandError, match="exists already"):
        run("create_api_client", "Reporting", scopes="config:read")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/o/applications/", "/o/applications/register/", "/o/register/"])
def test_nobody_registers_oauth_applications_outside_the_admin(client, charlie, path):
    client.force_login(charlie)
    assert client.get(path).status_code == 404
    assert client.post(path, {}, content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_the_openid_connect_discovery_document_is_published(client):
    document = client.get("/o/.well-known/openid-configuration").json()
    assert document["issuer"].endswith("/o")
    assert document["jwks_uri"].endswith("/o/.well-known/jwks.json")


def test_the_demo_signs_in_with_a_code_at_its_own_provider_and_serves_a_mobile_app(client, db):
    output = run("demo", "--base-url", "http://127.0.0.1:8000")
    run("demo", "--base-url", "http://127.0.0.1:8000")

    widget = ChannelInstance.objects.get(name="Account chat")
    setting = widget.authentication_setting
    assert setting.authentication_type == AuthenticationSetting.Type.OPENID_CONNECT
    assert setting.discovery_uri == "http://127.0.0.1:8000/o/.well-known/openid-configuration"
    assert widget.persistent_conversations
    assert widget.on_logout == ChannelInstance.OnLogout.END
    application = Application.objects.get(client_id=setting.client_id)
    assert application.redirect_uris == "http://127.0.0.1:8000/portal/oidc/"
    # The provider holds a hash of the very secret the setting sends.
    assert check_password(setting.client_secret, application.client_secret)
    page = client.get("/portal/oidc/").content.decode()
    assert 'id="oidc-sign-in"' in page
    assert "No chat here" not in page
    app = Deployment.objects.get(name="Mobile app")
    assert app.allow_mobile_apps and app.status == Deployment.Status.ACTIVE
    assert app.channel_instance.name == "Portal chat"
    assert f"deployment id {app.deployment_id}" in output
    assert "domain 127.0.0.1:8000" in output
