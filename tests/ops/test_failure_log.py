"""Every refused start or sign-in lands in the failure log, without its token or subject, and
the administrator reads it beside the setting and through the API."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.test import Client
from django.utils import timezone

from messaging import failure_log
from messaging.models import SignInFailure
from tests.api_clients import bearer, create_api_client, fetch_token
from tests.helpers import Type, deploy, make_chat_widget, make_setting
from tests.keyserver import ISSUER
from tests.messaging.sockets import SITE, refused_start, socket
from tests.ops.failures import KID, SUBJECT, expired, signed, written

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_refused_start_is_recorded_without_its_token_or_subject(chat, keys):
    widget, deployment = chat
    token = expired(keys)
    frame, _ = async_to_sync(refused_start)(widget.widget_id, token)
    assert frame["code"] == "token_expired"

    [failure] = written()
    assert failure.setting_id == widget.authentication_setting_id
    assert failure.channel_instance_id == widget.pk
    assert failure.deployment_id == deployment.pk
    assert (failure.way, failure.code, failure.detail) == (
        "chat_start",
        "token_expired",
        frame["detail"],
    )
    assert failure.origin_host == "portal.example.com"
    assert failure.iss == ISSUER
    assert failure.kid == KID
    stored = json.dumps(list(SignInFailure.objects.values()), default=str)
    assert token not in stored
    assert SUBJECT not in stored


def test_a_refused_authenticate_frame_is_recorded(chat, keys):
    widget, _ = chat
    widget.require_authentication = False
    widget.allow_session_upgrade = True
    widget.save()

    async def upgrade():
        async with socket(widget.widget_id) as communicator:
            await communicator.send_json_to({"type": "start", "token": None})
            assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
            await communicator.send_json_to({"type": "authenticate", "token": expired(keys)})
            while (frame := await communicator.receive_json_from(timeout=5))["type"] != "error":
                pass  # the transcript's messages come first
            return frame

    assert async_to_sync(upgrade)()["code"] == "token_expired"
    [failure] = written()
    assert (failure.way, failure.code) == ("authenticate", "token_expired")


def test_a_refused_code_flow_exchange_is_recorded(workstream):
    setting = make_setting(Type.OPENID_CONNECT, name="Provider")
    widget = make_chat_widget(workstream, authentication_setting=setting)
    deploy(widget)
    response = Client().post(
        f"/widget/{widget.widget_id}/auth/exchange",
        data="{}",
        content_type="application/json",
        HTTP_ORIGIN=SITE,
    )
    assert response.json()["code"] == "bad_frame"
    [failure] = written()
    assert (failure.way, failure.code, failure.setting_id) == (
        "code_exchange",
        "bad_frame",
        setting.pk,
    )
    assert failure.origin_host == "portal.example.com"


def test_an_apple_sign_in_at_an_unknown_state_is_recorded():
    setting = make_setting(Type.OAUTH2_OPENID_CONNECT, name="Apple sign-in")
    response = Client().get(
        f"/apple/auth/{setting.pk}/callback", {"state": "forged", "code": "anything"}
    )
    assert response.status_code >= 400
    [failure] = written()
    assert (failure.way, failure.code, failure.setting_id) == (
        "apple_sign_in",
        "state_invalid",
        setting.pk,
    )


def test_each_decision_is_one_log_line_with_the_subject_only_hashed(chat, keys, caplog):
    widget, _ = chat
    caplog.set_level(logging.INFO, logger="contactcenter.authentication")

    async def start_twice():
        async with socket(widget.widget_id) as communicator:
            await communicator.send_json_to({"type": "start", "token": signed(keys)})
            assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
        await refused_start(widget.widget_id, expired(keys))

    async_to_sync(start_twice)()
    written()
    lines = [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "contactcenter.authentication"
    ]
    accepted, refused = lines
    assert accepted["result"] == "accepted" and accepted["code"] is None
    assert refused["result"] == "refused" and refused["code"] == "token_expired"
    for line in lines:
        assert line["setting"] == widget.authentication_setting_id
        assert line["kid"] == KID
        assert line["latency_ms"] >= 0
    assert len(accepted["subject"]) == 16
    assert refused["subject"] is None
    text = caplog.text
    assert SUBJECT not in text
    assert ".ey" not in text  # no JWT


def test_failures_are_kept_for_cc_failure_log_days_then_purged(chat, settings):
    widget, _ = chat
    settings.CC_FAILURE_LOG_DAYS = 3
    now = timezone.now()
    for days in (1, 2, 4):
        SignInFailure.objects.create(
            at=now - timedelta(days=days),
            setting_id=widget.authentication_setting_id,
            way="chat_start",
            code="token_expired",
        )
    setting = widget.authentication_setting
    assert failure_log.failures_of(setting, now=now).count() == 2
    assert failure_log.purge(now=now) == 1
    assert SignInFailure.objects.count() == 2


def test_the_api_lists_a_settings_failures_newest_first(chat, keys):
    widget, deployment = chat
    async_to_sync(refused_start)(widget.widget_id, expired(keys))
    async_to_sync(refused_start)(widget.widget_id, "not-a-jwt")
    written()
    reader = bearer(fetch_token(create_api_client("Monitor", "config:read"))["access_token"])

    url = f"/api/v1/authentication-settings/{widget.authentication_setting_id}/failures/"
    page = reader.get(url).json()

    assert page["count"] == 2
    assert [item["code"] for item in page["results"]] == ["token_malformed", "token_expired"]
    assert set(page["results"][1]) == {
        "at",
        "code",
        "detail",
        "channel_instance",
        "deployment",
        "origin_host",
        "kid",
        "iss",
    }
    assert page["results"][1]["deployment"] == deployment.pk
    without_scope = bearer(
        fetch_token(create_api_client("Writer", "conversations:read"))["access_token"]
    )
    assert without_scope.get(url).status_code == 403


def test_the_settings_pages_show_counts_by_code_and_the_testers_fix(chat, keys, client, alice):
    widget, _ = chat
    for _ in range(2):
        async_to_sync(refused_start)(widget.widget_id, expired(keys))
    written()
    client.force_login(alice)
    setting_id = widget.authentication_setting_id
    fix = failure_log.fix_for("token_expired")
    assert fix.startswith("Paste a freshly issued token")

    for url in (
        f"/admin/authsettings/authenticationsetting/{setting_id}/change/",
        f"/admin/authsettings/authenticationsetting/{setting_id}/test/",
    ):
        page = client.get(url)
        html = page.content.decode()
        assert 'id="failure-panel"' in html, url
        panel = page.context["failures"]
        [count] = panel["counts"]
        assert (count.code, count.last_hour, count.last_day, count.fix) == (
            "token_expired",
            2,
            2,
            fix,
        )
        assert len(panel["latest"]) == 2
        assert fix in html


def test_every_code_of_the_token_steps_has_the_testers_fix():
    from authsettings import tokens

    for code, step_name in failure_log.TOKEN_STEP_OF_CODE.items():
        step = next(step for step in tokens.STEPS if step.name == step_name)
        assert failure_log.fix_for(code) == step.fix_for(tokens.TokenRefused(code, "")), code
    assert failure_log.fix_for("unknown_kid") != failure_log.fix_for("key_unavailable")
    assert failure_log.fix_for("no_such_code") == ""


def test_a_failure_of_a_setting_deleted_before_the_write_is_dropped_quietly(chat):
    widget, _ = chat
    setting = widget.authentication_setting
    entry = failure_log.failure("chat_start", "token_expired", "x", setting_id=setting.pk)
    widget.delete()
    setting.delete()
    failure_log.write([entry])
    assert not SignInFailure.objects.exists()


def test_the_unverified_kid_and_issuer_are_read_safely():
    read = failure_log.unverified_kid_and_issuer
    assert read(None) == ("", "")
    assert read("a.b") == ("", "")
    assert read("!!.??.x") == ("", "")
    assert read("W10.W10.x") == ("", "")  # JSON arrays, not objects
