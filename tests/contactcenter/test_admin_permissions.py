"""Each admin page that writes or reveals asks for the permission it needs: anyone short of it
gets 403 and nothing changes, and whoever holds it gets on with the job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission

from authsettings.models import AuthenticationSetting
from messaging.models import ChannelInstance, Deployment, RichMessage
from tests.helpers import APPLE, PASSWORD, VALID_SETTINGS, Type, make_setting
from tests.wizards import WizardWalk, current_step
from workstreams.models import Workstream

pytestmark = pytest.mark.django_db

SETTINGS = "/admin/authsettings/authenticationsetting"
CHANNELS = "/admin/messaging/channelinstance"
DEPLOYMENTS = "/admin/messaging/deployment"


def staff_member(django_user_model, name: str, *permissions: str):
    """A staff member holding exactly `permissions` ("app_label.codename")."""
    user = django_user_model.objects.create_user(name, password=PASSWORD, is_staff=True)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def grant(user, *permissions: str):
    """The same user, reloaded with more permissions (Django caches what it has)."""
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return type(user).objects.get(pk=user.pk)


def form_data(response) -> dict[str, Any]:
    """What a browser posts back from an admin change form left as it is shown."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value in (None, False):
            continue
        data[name] = value
    return data


# History: the list for viewers, a version's revert form for those who may make the change


@dataclass(frozen=True)
class Revert:
    """A record changed once after it was made: reverting it brings back `earlier`."""

    url: str
    record: Any
    version: int
    earlier: dict[str, Any]
    now: dict[str, Any]

    def fields(self) -> dict[str, Any]:
        self.record.refresh_from_db()
        return {name: getattr(self.record, name) for name in self.now}


def changed_once(url: str, record, **now) -> Revert:
    earlier = {name: getattr(record, name) for name in now}
    version = record.history.latest().history_id
    for name, value in now.items():
        setattr(record, name, value)
    record.save()
    return Revert(f"{url}/{record.pk}/history/", record, version, earlier, now)


@pytest.fixture(params=["authenticationsetting", "channelinstance", "deployment"])
def revert(request, deployment) -> Revert:
    """The setting's key URL and issuer, the widget's required sign-in, the deployment's
    domains: each changed since an earlier version."""
    widget = deployment.channel_instance
    if request.param == "authenticationsetting":
        return changed_once(
            SETTINGS,
            widget.authentication_setting,
            public_key_url="https://keys.example.com/publickey",
            expected_issuer="https://portal.example.com",
        )
    if request.param == "channelinstance":
        widget.require_authentication = False
        widget.save()
        return changed_once(CHANNELS, widget, require_authentication=True)
    return changed_once(DEPLOYMENTS, deployment, allowed_domains=["shop.example.com"])


def model_permission(revert: Revert, action: str) -> str:
    opts = type(revert.record)._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def test_someone_who_may_only_view_a_record_sees_its_history_but_cannot_revert_it(
    client, alice, django_user_model, revert
):
    client.force_login(alice)
    version_url = f"{revert.url}{revert.version}/"
    reverted = form_data(client.get(version_url))
    viewer = staff_member(django_user_model, "vera", model_permission(revert, "view"))
    client.force_login(viewer)

    history = client.get(revert.url)
    version_page = client.get(version_url)
    posted = client.post(version_url, reverted)

    assert history.status_code == 200
    assert (version_page.status_code, posted.status_code) == (403, 403)
    assert revert.fields() == revert.now
    assert not LogEntry.objects.filter(action_flag=CHANGE).exists()


def test_someone_who_may_change_a_record_reverts_it_to_an_earlier_version(
    client, django_user_model, revert
):
    editor = staff_member(
        django_user_model,
        "eddie",
        model_permission(revert, "view"),
        model_permission(revert, "change"),
    )
    client.force_login(editor)
    version_url = f"{revert.url}{revert.version}/"

    version_page = client.get(version_url)
    posted = client.post(version_url, form_data(version_page))

    assert version_page.status_code == 200
    assert posted.status_code == 302
    assert revert.fields() == revert.earlier
    assert LogEntry.objects.get(action_flag=CHANGE).user == editor


def test_a_staff_member_who_may_not_view_a_record_does_not_see_its_history(client, diane, revert):
    if isinstance(revert.record, AuthenticationSetting):
        diane.user_permissions.clear()
    client.force_login(diane)

    assert client.get(revert.url).status_code == 403
    assert client.get(f"{revert.url}{revert.version}/").status_code == 403


@pytest.fixture
def secret_setting(db) -> AuthenticationSetting:
    """An OpenID Connect setting with a stored secret, whose client id and discovery URI
    changed since its first version."""
    setting = make_setting(Type.OPENID_CONNECT, name="Identity provider")
    setting.client_id = "portal-2"
    setting.discovery_uri = "https://id2.example.com/.well-known/openid-configuration"
    setting.save()
    return setting


def test_reverting_where_a_stored_secret_is_sent_needs_the_permission_to_set_secrets(
    client, diane, secret_setting
):
    first = secret_setting.history.earliest().history_id
    version_url = f"{SETTINGS}/{secret_setting.pk}/history/{first}/"
    client.force_login(diane)

    assert client.get(version_url).status_code == 403
    posted = client.post(version_url, {"name": "Identity provider", "scope": "openid"})
    assert posted.status_code == 403
    secret_setting.refresh_from_db()
    assert (secret_setting.client_id, secret_setting.client_secret) == ("portal-2", "s3cret-value")

    client.force_login(grant(diane, "authsettings.set_client_secret"))
    assert client.post(version_url, form_data(client.get(version_url))).status_code == 302
    secret_setting.refresh_from_db()
    assert secret_setting.client_id == "portal"
    assert secret_setting.discovery_uri == VALID_SETTINGS[Type.OPENID_CONNECT]["discovery_uri"]
    assert secret_setting.client_secret == "s3cret-value"


def test_a_version_that_leaves_the_secret_where_it_goes_is_reverted_without_that_permission(
    client, diane, secret_setting
):
    before_scope = secret_setting.history.latest().history_id
    secret_setting.scope = "openid email"
    secret_setting.save()
    secret_changed_at = secret_setting.client_secret_changed_at
    version_url = f"{SETTINGS}/{secret_setting.pk}/history/{before_scope}/"
    client.force_login(diane)

    assert client.post(version_url, form_data(client.get(version_url))).status_code == 302
    secret_setting.refresh_from_db()
    assert (secret_setting.scope, secret_setting.client_id) == ("openid profile", "portal-2")
    assert secret_setting.client_secret == "s3cret-value"
    assert secret_setting.client_secret_changed_at == secret_changed_at


def test_bringing_back_a_deleted_deployment_needs_the_permission_to_add_one(
    client, django_user_model, deployment
):
    version = deployment.history.latest().history_id
    url = f"{DEPLOYMENTS}/{deployment.pk}/history/{version}/"
    editor = staff_member(
        django_user_model, "eddie", "messaging.view_deployment", "messaging.change_deployment"
    )
    client.force_login(editor)
    data = form_data(client.get(f"{DEPLOYMENTS}/{deployment.pk}/change/"))
    deployment.delete()

    assert client.get(url).status_code == 403
    assert client.post(url, data).status_code == 403
    assert not Deployment.objects.exists()

    client.force_login(grant(editor, "messaging.add_deployment"))
    assert client.post(url, data).status_code == 302
    assert Deployment.objects.get().allowed_domains == ["portal.example.com"]


@pytest.mark.parametrize("path", ["abc/history/", "{pk}/history/abc/", "abc/history/1/"])
def test_a_history_address_that_names_no_record_is_not_found(client, alice, deployment, path):
    client.force_login(alice)

    response = client.get(f"{DEPLOYMENTS}/{path.format(pk=deployment.pk)}")

    assert response.status_code == 404


# Wizards and their popups


IMPLICIT_SETTING_STEPS = {
    "channel": {
        "name": "Portal",
        "channel_type": "live_chat",
        "authentication_type": "oauth2_implicit",
    },
    "implicit_details": {
        "public_key_url": "https://portal.example.com/auth/publickey",
        "javascript_client_function": "auth.getAuthenticationToken",
    },
}


def test_the_setting_wizard_needs_the_permission_to_add_settings(client, diane):
    url = f"{SETTINGS}/add/"
    client.force_login(diane)
    walk = WizardWalk(client, url, "authentication_setting_wizard")

    assert walk.start().status_code == 403
    assert walk.through(IMPLICIT_SETTING_STEPS).status_code == 403
    assert not AuthenticationSetting.objects.exists()

    client.force_login(grant(diane, "authsettings.add_authenticationsetting"))
    assert walk.through(IMPLICIT_SETTING_STEPS).status_code == 302
    assert AuthenticationSetting.objects.get().name == "Portal"


def test_a_secret_setting_cannot_be_finished_without_the_secret_permission(client, diane):
    diane = grant(diane, "authsettings.add_authenticationsetting")
    walk = WizardWalk.started_by(client, diane, f"{SETTINGS}/add/", "authentication_setting_wizard")
    oauth2 = {k: v for k, v in VALID_SETTINGS[Type.OAUTH2].items() if k != "channel_type"}

    refused = walk.post(
        "channel", {"name": "Sign-in", "channel_type": "live_chat", "authentication_type": "oauth2"}
    )
    skipped_ahead = walk.post("oauth2_details", oauth2)
    finished = walk.post("summary")

    assert current_step(refused) == "Step 1 of 3: Channel type"
    assert skipped_ahead.status_code == 400
    assert current_step(finished) == "Step 1 of 3: Channel type"
    assert not AuthenticationSetting.objects.exists()


def test_setting_up_chat_needs_the_permissions_to_add_a_widget_and_a_deployment(
    client, django_user_model, workstream, implicit_setting
):
    member = staff_member(django_user_model, "cleo", "messaging.add_channelinstance")
    client.force_login(member)
    walk = WizardWalk(client, f"{CHANNELS}/setup-chat/", "chat_setup_wizard")

    steps = {
        "workstream": {"workstream": workstream.pk},
        "widget": {"name": "Help chat"},
        "behaviours": {"authentication_setting": implicit_setting.pk},
        "deployment": {"name": "Site", "allowed_domains": "shop.example.com"},
    }

    assert client.get(walk.url).status_code == 403
    assert walk.through(steps).status_code == 403
    assert not ChannelInstance.objects.exists()

    client.force_login(grant(member, "messaging.add_deployment"))
    assert walk.through(steps).status_code == 302
    assert Deployment.objects.get().channel_instance.name == "Help chat"


def test_setting_up_apple_messages_needs_the_permission_to_add_a_channel(client, django_user_model):
    apple = Workstream.objects.create(name="Apple", channel_type=APPLE)
    member = staff_member(django_user_model, "cleo", "messaging.view_channelinstance")
    client.force_login(member)
    walk = WizardWalk(client, f"{CHANNELS}/setup-apple/", "apple_setup_wizard")

    steps = {
        "workstream": {"workstream": apple.pk},
        "account": {"business_id": "biz-1", "name": "Shop on Messages"},
        "behaviours": {},
    }

    assert walk.through(steps).status_code == 403
    assert not ChannelInstance.objects.exists()

    client.force_login(grant(member, "messaging.add_channelinstance"))
    assert walk.through(steps).status_code == 302
    assert ChannelInstance.objects.get().business_id == "biz-1"


def test_the_plus_link_for_a_rich_message_needs_the_permission_to_add_one(
    client, django_user_model
):
    member = staff_member(
        django_user_model,
        "rita",
        "authsettings.add_authenticationsetting",
        "authsettings.set_client_secret",
    )
    apple = {k: v for k, v in VALID_SETTINGS[Type.OAUTH2_CODE].items() if k != "channel_type"}
    popup = "/admin/messaging/richmessage/add/?_to_field=id&_popup=1"

    def rich_messages_step():
        walk = WizardWalk.started_by(
            client, member, f"{SETTINGS}/add/", "authentication_setting_wizard"
        )
        walk.post(
            "channel",
            {"name": "Apple", "channel_type": APPLE, "authentication_type": "oauth2_code"},
        )
        walk.post("apple_details", apple)
        return walk.post("additional", {"access_token_expiry_seconds": "3600"})

    assert popup not in rich_messages_step().content.decode().replace("&amp;", "&")
    assert client.get(popup).status_code == 403
    created = client.post(popup, {"name": "Sign in", "type": "authentication"})
    assert created.status_code == 403
    assert not RichMessage.objects.exists()

    member = grant(member, "messaging.add_richmessage")
    assert popup in rich_messages_step().content.decode().replace("&amp;", "&")
    assert client.get(popup).status_code == 200


def test_the_plus_link_for_a_setting_needs_the_permission_to_add_one(
    client, django_user_model, workstream
):
    member = staff_member(
        django_user_model, "cleo", "messaging.add_channelinstance", "messaging.add_deployment"
    )
    popup = f"{SETTINGS}/add/?_to_field=id&_popup=1&channel_type=live_chat"

    def behaviours_step():
        walk = WizardWalk.started_by(client, member, f"{CHANNELS}/setup-chat/", "chat_setup_wizard")
        walk.post("workstream", {"workstream": workstream.pk})
        return walk.post("widget", {"name": "Help chat"})

    assert popup.replace("&", "&amp;") not in behaviours_step().content.decode()
    assert client.get(popup).status_code == 403

    member = grant(member, "authsettings.add_authenticationsetting")
    assert popup.replace("&", "&amp;") in behaviours_step().content.decode()
    assert client.get(popup).status_code == 200


# Pages about one record


def test_testing_a_setting_needs_the_permission_to_change_it(
    client, django_user_model, portal_setting_url, key_server
):
    viewer = staff_member(django_user_model, "vera", "authsettings.view_authenticationsetting")
    client.force_login(viewer)
    url = f"{portal_setting_url}test/"

    assert client.get(url).status_code == 403
    assert client.post(url, {"token": "x"}).status_code == 403
    assert key_server.hits["/publickey"] == 0

    client.force_login(grant(viewer, "authsettings.change_authenticationsetting"))
    assert client.post(url).status_code == 200
    assert key_server.hits["/publickey"] == 1


@pytest.fixture
def portal_setting_url(chat) -> str:
    widget, _deployment = chat
    return f"{SETTINGS}/{widget.authentication_setting.pk}/"


def test_the_snippet_page_needs_the_permission_to_view_the_deployment(client, diane, deployment):
    url = f"{DEPLOYMENTS}/{deployment.pk}/snippet/"
    client.force_login(diane)

    assert client.get(url).status_code == 403

    client.force_login(grant(diane, "messaging.view_deployment"))
    page = client.get(url)
    assert page.status_code == 200
    assert str(deployment.deployment_id) in page.content.decode()


def test_the_redirect_information_needs_the_permission_to_view_the_setting(
    client, django_user_model
):
    setting = make_setting(Type.OAUTH2_OPENID_CONNECT)
    url = f"{SETTINGS}/{setting.pk}/redirect-information/"
    member = staff_member(django_user_model, "cleo", "messaging.view_channelinstance")
    client.force_login(member)

    assert client.get(url).status_code == 403

    client.force_login(grant(member, "authsettings.view_authenticationsetting"))
    page = client.get(url)
    assert page.status_code == 200
    assert f"http://testserver/apple/auth/{setting.pk}/callback" in page.content.decode()


def test_the_pages_offer_only_the_buttons_their_user_may_use(
    client, django_user_model, implicit_setting
):
    viewer = staff_member(
        django_user_model,
        "vera",
        "authsettings.view_authenticationsetting",
        "messaging.view_channelinstance",
    )
    client.force_login(viewer)
    change_page = f"{SETTINGS}/{implicit_setting.pk}/change/"

    assert "Test this setting" not in client.get(change_page).content.decode()
    assert "Set up" not in client.get(f"{CHANNELS}/").content.decode()

    viewer = grant(
        viewer, "authsettings.change_authenticationsetting", "messaging.add_channelinstance"
    )
    client.force_login(viewer)
    channels = client.get(f"{CHANNELS}/").content.decode()
    assert "Test this setting" in client.get(change_page).content.decode()
    assert ("Set up Apple Messages for Business" in channels, "Set up chat" in channels) == (
        True,
        False,
    )


# Change pages for viewers: read-only, and a stored secret is never shown


def test_a_viewer_reads_a_setting_with_a_stored_secret_without_seeing_the_secret(
    client, django_user_model, secret_setting
):
    viewer = staff_member(django_user_model, "viewer", "authsettings.view_authenticationsetting")
    client.force_login(viewer)

    response = client.get(f"{SETTINGS}/{secret_setting.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert secret_setting.name in page
    assert secret_setting.client_secret not in page
    assert 'field-client_secret"' not in page
    assert 'field-remove_client_secret"' not in page
