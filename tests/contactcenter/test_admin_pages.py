"""Every record can be managed in the admin, and only by those allowed to."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from authsettings.models import AuthenticationSetting
from messaging.models import Conversation, Message
from tests.helpers import PASSWORD, VALID_SETTINGS, Type, make_setting

pytestmark = pytest.mark.django_db

OUR_APPS = {"contactcenter", "authsettings", "workstreams", "messaging"}
OUR_MODELS = [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]
SECRET = "do-not-show-this-secret-42"


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def conversation(chat_widget, workstream):
    conversation = Conversation.objects.create(
        channel_instance=chat_widget,
        queue=workstream.default_queue,
        authenticated=True,
        subject="87b4d06c-abc2-e811-a9b0-000d3a10e09e",
        context={"msdyn_cartvalue": 10000},
    )
    Message.objects.create(conversation=conversation, sender="visitor", text="<b>Hello</b>")
    return conversation


def test_every_model_of_the_platform_is_in_the_admin():
    names = {model._meta.model_name for model in OUR_MODELS}
    assert names >= {
        "authenticationsetting",
        "workstream",
        "contextvariable",
        "queue",
        "routingrule",
        "richmessage",
        "channelinstance",
        "deployment",
        "contact",
        "conversation",
    }


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda model: model._meta.model_name)
def test_an_administrator_sees_each_list_and_add_page(client, alice, model, deployment):
    client.force_login(alice)
    assert client.get(admin_url(model, "changelist")).status_code == 200
    assert client.get(admin_url(model, "changelist"), {"q": "portal"}).status_code == 200
    add_page = client.get(admin_url(model, "add"))
    model_admin = admin.site._registry[model]
    expected = 200 if model_admin.has_add_permission(add_page.wsgi_request) else 403
    assert add_page.status_code == expected


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda model: model._meta.model_name)
def test_someone_without_staff_access_is_sent_to_the_login_page(client, charlie, model):
    client.force_login(charlie)
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_a_staff_member_without_a_models_permission_is_refused(client, diane):
    client.force_login(diane)
    from workstreams.models import Workstream

    assert client.get(admin_url(Workstream, "changelist")).status_code == 403
    assert client.get(admin_url(AuthenticationSetting, "changelist")).status_code == 200


def test_an_administrator_reads_a_conversation_with_its_messages_escaped(
    client, alice, conversation
):
    client.force_login(alice)
    page = client.get(admin_url(Conversation, "change", conversation.pk))
    assert page.status_code == 200
    assert "&lt;b&gt;Hello&lt;/b&gt;" in page.text
    assert "<b>Hello</b>" not in page.text
    assert client.get(admin_url(Conversation, "add")).status_code == 403


def test_the_deployment_page_shows_the_snippet_to_copy(client, alice, deployment):
    client.force_login(alice)
    page = client.get(admin_url(type(deployment), "change", deployment.pk))
    assert "&lt;script src=&quot;http://testserver/widget/loader.js&quot;" in page.text
    assert str(deployment.deployment_id) in page.text


def setting_form(**changes) -> dict:
    """The change form of the `setting` fixture as a browser posts it, with `changes`."""
    return {
        "name": "Identity provider",
        "authentication_type": Type.OPENID_CONNECT,
        **VALID_SETTINGS[Type.OPENID_CONNECT],
        "client_secret": SECRET,
        "access_token_expiry_seconds": 3600,
        "max_refresh_token_lifetime_seconds": 86400,
        "additional_parameters": "{}",
        "link_contacts": True,
        **changes,
    }


@pytest.fixture
def setting(alice) -> AuthenticationSetting:
    """alice's OpenID Connect setting holding SECRET, stored as setting_form() posts it."""
    return make_setting(
        Type.OPENID_CONNECT, name="Identity provider", client_secret=SECRET, owner=alice
    )


def test_a_stored_secret_is_never_shown_again(client, alice, setting):
    client.force_login(alice)
    change_page = client.get(admin_url(AuthenticationSetting, "change", setting.pk))
    history_page = client.get(admin_url(AuthenticationSetting, "history", setting.pk))
    for page in (change_page, history_page):
        assert page.status_code == 200
        assert SECRET not in page.text
    assert "A secret is stored; leave empty to keep it." in change_page.text


def test_leaving_the_secret_empty_keeps_it(client, alice, setting):
    client.force_login(alice)
    response = client.post(
        admin_url(AuthenticationSetting, "change", setting.pk),
        setting_form(client_secret="", scope="openid email", owner=alice.pk),
    )
    assert response.status_code == 302
    setting.refresh_from_db()
    assert setting.client_secret == SECRET
    assert setting.scope == "openid email"


def test_an_error_on_one_field_is_shown_on_that_field_and_keeps_the_other_values(
    client, alice, setting
):
    client.force_login(alice)
    response = client.post(
        admin_url(AuthenticationSetting, "change", setting.pk),
        setting_form(scope="email", client_id="", client_secret=""),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["scope"] == ["Include openid in the scope for an OpenID Connect flow."]
    assert errors["client_id"] == ["Required for OpenID Connect."]
    assert 'value="https://id.example.com/.well-known/openid-configuration"' in response.text
    assert SECRET not in response.text


def test_a_staff_member_without_the_secret_permission_cannot_set_a_secret(client, diane):
    setting = make_setting(
        Type.OPENID_CONNECT, name="Identity provider", client_secret="original-secret"
    )
    client.force_login(diane)
    page = client.get(admin_url(AuthenticationSetting, "change", setting.pk))
    assert "needs the permission to set secrets" in page.text
    response = client.post(
        admin_url(AuthenticationSetting, "change", setting.pk),
        setting_form(
            client_secret="attacker-secret",
            remove_client_secret="on",
            discovery_uri="https://attacker.example.com/.well-known/openid-configuration",
            client_id="attacker",
            authentication_type="oauth2",
            scope="openid email",
        ),
    )
    assert response.status_code == 302
    setting.refresh_from_db()
    assert setting.client_secret == "original-secret"
    # Where the secret is sent stays put; the rest of the change is saved.
    assert setting.discovery_uri == "https://id.example.com/.well-known/openid-configuration"
    assert setting.client_id == "portal"
    assert setting.authentication_type == "openid_connect"
    assert setting.scope == "openid email"

    diane.user_permissions.add(Permission.objects.get(codename="set_client_secret"))
    client.post(
        admin_url(AuthenticationSetting, "change", setting.pk),
        setting_form(client_secret="rotated-secret"),
    )
    setting.refresh_from_db()
    assert setting.client_secret == "rotated-secret"


def test_changes_to_a_setting_are_kept_with_who_and_which_fields(client, alice, setting):
    client.force_login(alice)
    client.post(
        admin_url(AuthenticationSetting, "change", setting.pk),
        setting_form(client_secret="second-secret", scope="openid email", owner=alice.pk),
    )
    latest, previous = setting.history.all()[:2]
    assert latest.history_user == alice
    assert sorted(latest.diff_against(previous).changed_fields) == [
        "client_secret_changed_at",
        "scope",
    ]
    history_page = client.get(admin_url(AuthenticationSetting, "history", setting.pk))
    assert "second-secret" not in history_page.text
    assert "<strong>Client secret changed at:</strong>" in history_page.text
    assert "<strong>Scope:</strong>" in history_page.text


def test_a_password_is_needed_to_log_in(client, alice):
    response = client.post(
        reverse("admin:login"), {"username": "alice", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302


def test_changes_to_channel_instances_and_deployments_are_kept_with_who(client, alice, deployment):
    client.force_login(alice)
    widget = deployment.channel_instance
    response = client.post(
        admin_url(type(deployment), "change", deployment.pk),
        {
            "name": "Portal",
            "channel_instance": widget.pk,
            "allowed_domains": "portal.example.com\nshop.example.com",
            "status": "inactive",
        },
    )
    assert response.status_code == 302
    latest, previous = deployment.history.all()[:2]
    assert latest.history_user == alice
    assert sorted(latest.diff_against(previous).changed_fields) == ["allowed_domains", "status"]

    widget.allow_session_upgrade = True
    widget.save()
    assert widget.history.count() == 2
    assert widget.history.first().diff_against(widget.history.last()).changed_fields == [
        "allow_session_upgrade"
    ]
