"""The API's fields for native apps and signed-in customers' sessions: deployments that allow
mobile apps, persistent conversations and what a sign-out does, under the model's rules."""

from __future__ import annotations

import pytest

from messaging.models import ChannelInstance
from tests.helpers import Type, make_setting

pytestmark = pytest.mark.django_db


def test_a_deployment_allows_mobile_apps_only_when_asked(api, chat_widget):
    created = api.post(
        "/api/v1/deployments/",
        {"name": "Site", "channel_instance": chat_widget.pk, "allowed_domains": ["a.example"]},
    )
    assert created.status_code == 201
    assert created.json()["allow_mobile_apps"] is False

    changed = api.patch(f"/api/v1/deployments/{created.json()['id']}/", {"allow_mobile_apps": True})

    assert changed.status_code == 200
    assert changed.json()["allow_mobile_apps"] is True
    assert changed.json()["mobile"]["deployment_id"] == created.json()["deployment_id"]


def test_a_chat_widget_keeps_conversations_and_sign_outs_as_asked(api, workstream):
    setting = make_setting(Type.OPENID_CONNECT, name="Portal sign-in")
    body = {
        "name": "Portal chat",
        "kind": "chat_widget",
        "workstream": workstream.pk,
        "authentication_setting": setting.pk,
    }
    defaults = api.post("/api/v1/channel-instances/", body).json()
    assert (defaults["persistent_conversations"], defaults["on_logout"]) == (False, "keep")

    created = api.post(
        "/api/v1/channel-instances/",
        {**body, "name": "Shared chat", "persistent_conversations": True, "on_logout": "end"},
    )

    assert created.status_code == 201
    widget = ChannelInstance.objects.get(pk=created.json()["id"])
    assert widget.persistent_conversations
    assert widget.on_logout == ChannelInstance.OnLogout.END


def test_the_model_rules_refuse_sessions_a_widget_cannot_keep(api, workstream, implicit_setting):
    body = {"name": "Chat", "kind": "chat_widget", "workstream": workstream.pk}

    anonymous = api.post("/api/v1/channel-instances/", {**body, "persistent_conversations": True})
    implicit = api.post(
        "/api/v1/channel-instances/",
        {**body, "authentication_setting": implicit_setting.pk, "on_logout": "end"},
    )
    unknown = api.post("/api/v1/channel-instances/", {**body, "on_logout": "later"})

    assert anonymous.status_code == 400
    assert "authentication setting" in anonymous.json()["persistent_conversations"][0]
    assert implicit.status_code == 400
    assert "Only a code flow" in implicit.json()["on_logout"][0]
    assert unknown.status_code == 400
    assert "on_logout" in unknown.json()
