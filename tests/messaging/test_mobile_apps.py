"""Native apps on the widget socket: they send no Origin, so they name a deployment that allows
mobile apps in the start frame, and resume only conversations started through one that still
does. `Origin: null` is never taken for an app."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from messaging import actions
from messaging.models import ChannelInstance, Conversation, Deployment
from tests.helpers import Type, make_setting
from tests.keyserver import token_for
from tests.messaging.sockets import refusal, resume_frame, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(chat):
    """The chat's widget and a deployment of it for a mobile app."""
    widget, _ = chat
    return widget, Deployment.objects.create(
        name="Mobile app", channel_instance=widget, allow_mobile_apps=True
    )


def start_frame(keys, deployment_id) -> dict:
    return {"type": "start", "token": token_for(keys), "deployment_id": str(deployment_id)}


async def change(deployment, **fields) -> None:
    for name, value in fields.items():
        setattr(deployment, name, value)
    await database_sync_to_async(deployment.save)()


async def test_an_app_chats_through_a_deployment_that_allows_mobile_apps(app, keys):
    widget, deployment = app
    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(start_frame(keys, deployment.deployment_id))
        started = await communicator.receive_json_from(timeout=5)
        await communicator.receive_json_from(timeout=5)  # the system message
        await communicator.send_json_to({"type": "message", "text": "Hello from the app"})
        echo = await communicator.receive_json_from(timeout=5)

    assert started["type"] == "started" and started["authenticated"] is True
    assert echo["text"] == "Hello from the app"
    conversation = await database_sync_to_async(Conversation.objects.get)(
        pk=started["conversation"]
    )
    assert conversation.deployment_id == deployment.pk


@pytest.mark.parametrize(
    "named",
    ["web site", "unknown", None],
    ids=["a deployment without mobile apps", "an unknown deployment", "no deployment"],
)
async def test_a_start_without_origin_needs_a_deployment_allowing_mobile_apps(app, keys, named):
    widget, _ = app
    web = await database_sync_to_async(Deployment.objects.get)(name="Portal")
    frame = {"type": "start", "token": token_for(keys)}
    if named == "web site":
        frame["deployment_id"] = str(web.deployment_id)
    elif named == "unknown":
        frame["deployment_id"] = str(uuid.uuid4())
    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(frame)
        error, code = await refusal(communicator)

    assert (error["code"], code) == ("origin_not_allowed", 4403)
    assert not await database_sync_to_async(Conversation.objects.exists)()


async def test_an_inactive_app_deployment_is_refused(app, keys):
    widget, deployment = app
    await change(deployment, status=Deployment.Status.INACTIVE)
    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(start_frame(keys, deployment.deployment_id))
        error, code = await refusal(communicator)

    assert (error["code"], code) == ("deployment_inactive", 4403)


async def test_origin_null_is_refused_even_naming_an_app_deployment(app, keys):
    widget, deployment = app
    async with socket(widget.widget_id, origin="null") as communicator:
        await communicator.send_json_to(start_frame(keys, deployment.deployment_id))
        error, code = await refusal(communicator)

    assert (error["code"], code) == ("origin_not_allowed", 4403)


async def test_an_app_deployment_of_another_widget_is_refused(app, keys, workstream):
    widget, _ = app
    other = await database_sync_to_async(make_app_deployment)(workstream)
    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(start_frame(keys, other.deployment_id))
        error, code = await refusal(communicator)

    assert (error["code"], code) == ("origin_not_allowed", 4403)


def make_app_deployment(workstream) -> Deployment:
    widget = ChannelInstance.objects.create(
        name="Other chat",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        require_authentication=False,
    )
    return Deployment.objects.create(
        name="Other app", channel_instance=widget, allow_mobile_apps=True
    )


async def started_in_app(widget, deployment, keys) -> dict:
    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(start_frame(keys, deployment.deployment_id))
        return await communicator.receive_json_from(timeout=5)


async def resume_in_app(started: dict, widget) -> tuple[dict, int | None]:
    """The first answer to a resume without Origin, and the close code when refused."""
    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(resume_frame(started))
        frame = await communicator.receive_json_from(timeout=5)
        if frame["type"] != "error":
            return frame, None
        closing = await communicator.receive_output(timeout=5)
        return frame, closing["code"]


async def test_an_app_resumes_its_conversation_without_origin(app, keys):
    widget, deployment = app
    started = await started_in_app(widget, deployment, keys)

    resumed, _ = await resume_in_app(started, widget)

    assert resumed == {
        "type": "resumed",
        "conversation": started["conversation"],
        "authenticated": True,
    }


async def test_a_frame_sent_right_after_a_resume_is_answered_after_the_whole_replay(app, keys):
    """The transport SDK sends a frame the platform refuses on `resumed` and takes the refusal
    as the end of the replay, to know which of its messages the connection lost."""
    widget, deployment = app
    started = await started_in_app(widget, deployment, keys)
    for n in range(3):
        await database_sync_to_async(actions.do_post_message)(
            started["conversation"], sender="system", text=f"Note {n}"
        )

    async with socket(widget.widget_id, origin=None) as communicator:
        await communicator.send_json_to(resume_frame(started))
        await communicator.send_json_to({"type": "message", "text": ""})
        frames = [await communicator.receive_json_from(timeout=5) for _ in range(6)]
        assert await communicator.receive_nothing(timeout=0.2)

    assert [frame["type"] for frame in frames] == ["resumed", *["message"] * 4, "error"]
    assert [frame["text"] for frame in frames[2:5]] == ["Note 0", "Note 1", "Note 2"]
    assert frames[-1]["code"] == "bad_frame"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"allow_mobile_apps": False}, "origin_not_allowed"),
        ({"status": Deployment.Status.INACTIVE}, "deployment_inactive"),
    ],
    ids=["no longer allowing apps", "inactive"],
)
async def test_an_app_resumes_only_while_its_deployment_allows_it(app, keys, fields, code):
    widget, deployment = app
    started = await started_in_app(widget, deployment, keys)
    await change(deployment, **fields)

    refused, close_code = await resume_in_app(started, widget)

    assert (refused["code"], close_code) == (code, 4403)


async def test_a_conversation_started_on_a_web_page_does_not_resume_without_origin(app, keys):
    widget, _ = app
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": token_for(keys)})
        started = await communicator.receive_json_from(timeout=5)

    refused, code = await resume_in_app(started, widget)

    assert (refused["code"], code) == ("origin_not_allowed", 4403)


async def test_a_forged_resume_without_origin_is_refused_as_any(app, keys):
    widget, deployment = app
    started = await started_in_app(widget, deployment, keys)

    refused, code = await resume_in_app({**started, "resume_token": "x" * 43}, widget)

    assert (refused["code"], code) == ("resume_invalid", 4401)


def sign_in_post(widget, action: str, body: dict):
    """A request of a native app to a sign-in endpoint: no Origin."""
    return Client().post(
        f"/widget/{widget.widget_id}/auth/{action}",
        data=json.dumps(body),
        content_type="application/json",
    )


@pytest.mark.django_db
def test_an_app_reaches_the_sign_in_endpoints_where_a_deployment_allows_mobile_apps(workstream):
    widget = ChannelInstance.objects.create(
        name="Account chat",
        kind=ChannelInstance.Kind.CHAT_WIDGET,
        workstream=workstream,
        authentication_setting=make_setting(Type.OPENID_CONNECT),
    )
    web = Deployment.objects.create(
        name="Site", channel_instance=widget, allowed_domains=["portal.example.com"]
    )
    refused = sign_in_post(widget, "refresh", {"refresh_token": "a.0.b"})
    web.allow_mobile_apps = True
    web.save()

    refresh = sign_in_post(widget, "refresh", {"refresh_token": "a.0.b"})
    logout = sign_in_post(widget, "logout", {"refresh_token": "a.0.b"})

    assert (refused.status_code, refused.json()["code"]) == (403, "origin_not_allowed")
    assert (refresh.status_code, refresh.json()["code"]) == (400, "token_invalid")
    assert logout.status_code == 204
    assert "Access-Control-Allow-Origin" not in logout
