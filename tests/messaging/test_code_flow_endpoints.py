"""The widget's code-flow endpoints over HTTP: who may call them, what they take, what they
answer; and whole sign-ins through the platform's own OpenID Connect provider, served with the
rest of the platform by a real server, ending in authenticated chats."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable

import httpx
import pytest
import websockets
from django.test import Client

from authsettings.models import AuthenticationSetting, WidgetSignIn
from messaging.models import ChannelInstance, Conversation, Deployment
from tests.helpers import Type, deploy, make_chat_widget, make_setting
from tests.identity_provider import (
    CLIENT_SECRET,
    CODE,
    CODE_VERIFIER,
    NONCE,
    REDIRECT_URI,
    SUBJECT,
    openid_setting,
    start_provider,
)
from tests.keyserver import token_for
from tests.live import platform_client, start_server
from tests.messaging.sockets import SITE, refusal, socket

pytestmark = pytest.mark.django_db

EXCHANGE_BODY = {
    "code": CODE,
    "redirect_uri": REDIRECT_URI,
    "code_verifier": CODE_VERIFIER,
    "nonce": NONCE,
}


@pytest.fixture
def provider(key_server, keys):
    provider = start_provider(key_server, keys)
    # The endpoints check id tokens at the current time.
    provider.answer_code_with_id_token(time.time())
    return provider


@pytest.fixture
def widget(workstream, provider):
    return widget_for(workstream, openid_setting(provider))


def widget_for(workstream, setting, *, name: str = "Portal chat") -> ChannelInstance:
    widget = make_chat_widget(workstream, name=name, authentication_setting=setting)
    deploy(widget, name=name)
    return widget


def post(widget_id, action: str, body: object, *, origin: str | None = SITE):
    """POST a body (anything but a string is sent as JSON) as the widget would."""
    headers = {} if origin is None else {"HTTP_ORIGIN": origin}
    return Client().post(
        f"/widget/{widget_id}/auth/{action}",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
        **headers,
    )


def start_socket(widget_id, token: str) -> tuple[dict, int | None]:
    """Start a chat over the in-process socket: the first frame, and the close code if any."""

    async def run():
        async with socket(widget_id) as communicator:
            await communicator.send_json_to({"type": "start", "token": token})
            frame = await communicator.receive_json_from(timeout=5)
            if frame["type"] != "error":
                return frame, None
            closing = await communicator.receive_output(timeout=5)
            return frame, closing["code"]

    return asyncio.run(run())


def test_a_page_exchanges_a_code_for_a_session_token_and_a_refresh_token(widget):
    response = post(widget.widget_id, "exchange", EXCHANGE_BODY)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"session_token", "expires_in", "refresh_token"}
    assert body["expires_in"] == 300
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response["Vary"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db(transaction=True)
def test_the_session_token_starts_an_authenticated_chat_until_logout(widget):
    pair = post(widget.widget_id, "exchange", EXCHANGE_BODY).json()

    started, _ = start_socket(widget.widget_id, pair["session_token"])

    assert started["type"] == "started" and started["authenticated"] is True
    conversation = Conversation.objects.get(pk=started["conversation"])
    assert conversation.subject == SUBJECT
    assert conversation.authentication["setting"] == widget.authentication_setting_id
    logout = post(widget.widget_id, "logout", {"refresh_token": pair["refresh_token"]})
    assert logout.status_code == 204
    assert logout["Access-Control-Allow-Origin"] == SITE
    frame, code = start_socket(widget.widget_id, pair["session_token"])
    assert (frame["code"], code) == ("token_revoked", 4401)


@pytest.mark.django_db(transaction=True)
def test_a_session_token_for_another_widget_does_not_start_a_chat(widget, workstream):
    other = widget_for(workstream, widget.authentication_setting, name="Other chat")
    pair = post(widget.widget_id, "exchange", EXCHANGE_BODY).json()

    frame, code = start_socket(other.widget_id, pair["session_token"])

    assert (frame["code"], code) == ("claims_invalid", 4401)


@pytest.mark.django_db(transaction=True)
async def test_an_implicit_flow_token_is_not_a_session_token(widget, keys):
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": token_for(keys)})
        frame, code = await refusal(communicator)

    assert (frame["code"], code) == ("token_invalid", 4401)


def test_a_refresh_gives_a_new_pair_and_reusing_the_old_token_revokes_the_sign_in(widget):
    first = post(widget.widget_id, "exchange", EXCHANGE_BODY).json()

    second = post(widget.widget_id, "refresh", {"refresh_token": first["refresh_token"]})
    reused = post(widget.widget_id, "refresh", {"refresh_token": first["refresh_token"]})

    assert second.status_code == 200
    assert second["Access-Control-Allow-Origin"] == SITE
    assert set(second.json()) == {"session_token", "expires_in", "refresh_token"}
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert (reused.status_code, reused.json()["code"]) == (400, "token_revoked")
    latest = post(widget.widget_id, "refresh", {"refresh_token": second.json()["refresh_token"]})
    assert latest.json()["code"] == "token_revoked"


def test_logout_answers_204_even_for_a_token_naming_no_sign_in(widget):
    response = post(widget.widget_id, "logout", {"refresh_token": "unknown.token"})

    assert response.status_code == 204


@pytest.mark.parametrize("action", ["exchange", "refresh", "logout"])
@pytest.mark.parametrize("origin", ["https://elsewhere.example.com", "null", None])
def test_pages_on_other_origins_are_refused_and_cannot_read_the_answer(widget, action, origin):
    response = post(widget.widget_id, action, EXCHANGE_BODY, origin=origin)

    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert not WidgetSignIn.objects.exists()


def test_an_inactive_deployment_cannot_sign_visitors_in(widget):
    widget.deployments.update(status=Deployment.Status.INACTIVE)

    response = post(widget.widget_id, "exchange", EXCHANGE_BODY)

    assert (response.status_code, response.json()["code"]) == (403, "deployment_inactive")


def test_a_preflight_from_an_allowed_origin_is_answered(widget):
    response = Client().options(
        f"/widget/{widget.widget_id}/auth/exchange",
        HTTP_ORIGIN=SITE,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert response["Access-Control-Allow-Methods"] == "POST"
    assert response["Access-Control-Allow-Headers"] == "Content-Type"


def test_a_preflight_from_another_origin_gets_no_cors_headers(widget):
    response = Client().options(
        f"/widget/{widget.widget_id}/auth/exchange", HTTP_ORIGIN="https://elsewhere.example.com"
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_only_json_bodies_are_taken(widget):
    response = Client().post(
        f"/widget/{widget.widget_id}/auth/exchange", EXCHANGE_BODY, HTTP_ORIGIN=SITE
    )

    assert response.status_code == 415
    assert response.json()["code"] == "bad_frame"
    assert response["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"code": NaN, "redirect_uri": "https://portal.example.com/callback"}',
        "[]",
        {},
        {"redirect_uri": REDIRECT_URI},
        {"code": CODE},
        {**EXCHANGE_BODY, "code": 451},
        {**EXCHANGE_BODY, "code": "c" * 5000},
        {**EXCHANGE_BODY, "redirect_uri": ""},
        {**EXCHANGE_BODY, "code_verifier": "too-short"},
        {**EXCHANGE_BODY, "nonce": ["a"]},
        {**EXCHANGE_BODY, "padding": "x" * 20000},
    ],
)
def test_a_malformed_exchange_body_is_a_bad_frame(widget, provider, body):
    response = post(widget.widget_id, "exchange", body)

    assert (response.status_code, response.json()["code"]) == (400, "bad_frame")
    assert not provider.token_requests()


@pytest.mark.parametrize("action", ["refresh", "logout"])
@pytest.mark.parametrize("body", [{}, {"refresh_token": 5}, {"refresh_token": ""}, "[]"])
def test_a_malformed_refresh_or_logout_body_is_a_bad_frame(widget, action, body):
    response = post(widget.widget_id, action, body)

    assert (response.status_code, response.json()["code"]) == (400, "bad_frame")


def test_other_methods_are_not_allowed(widget):
    response = Client().get(f"/widget/{widget.widget_id}/auth/exchange", HTTP_ORIGIN=SITE)

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


def test_an_unknown_widget_is_not_found(db):
    response = post("6a1e0c3b-9d7f-4f55-8b0e-2a6c1d9e8f70", "exchange", EXCHANGE_BODY)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_widget_without_a_code_flow_setting_takes_no_codes(workstream, implicit_setting):
    widget = widget_for(workstream, implicit_setting)

    response = post(widget.widget_id, "exchange", EXCHANGE_BODY)

    assert (response.status_code, response.json()["code"]) == (400, "token_invalid")


def test_sign_ins_are_rate_limited_per_client_address(widget, settings):
    settings.CC_WIDGET_STARTS_PER_MINUTE = 2
    body = {"refresh_token": "unknown.token"}

    codes = [post(widget.widget_id, "logout", body).status_code for _ in range(3)]

    assert codes == [204, 204, 429]
    assert post(widget.widget_id, "logout", body).json()["code"] == "rate_limited"


@pytest.mark.parametrize(
    ("fail", "code"),
    [
        (
            lambda p: p.server.serve("/token", "boom", status=500, content_type="text/plain"),
            "token_invalid",
        ),
        (
            lambda p: p.server.serve("/token", {"error": "invalid_grant"}, status=400),
            "token_invalid",
        ),
        (lambda p: p.answer_code_with_id_token(time.time(), aud="someone-else"), "claims_invalid"),
        (lambda p: p.answer_code_with_id_token(time.time(), nonce="other"), "claims_invalid"),
        (lambda p: p.server.serve("/jwks", "down", status=503), "key_unavailable"),
        (lambda p: p.publish(issuer="https://impostor.example.com"), "issuer_mismatch"),
    ],
)
def test_a_provider_failure_is_a_clear_400_that_never_echoes_the_code_or_secret(
    widget, provider, caplog, fail: Callable, code
):
    fail(provider)

    with caplog.at_level(logging.INFO):
        response = post(widget.widget_id, "exchange", EXCHANGE_BODY)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert response["Access-Control-Allow-Origin"] == SITE
    for secret in (CODE, CLIENT_SECRET, CODE_VERIFIER):
        assert secret not in response.content.decode()
        assert secret not in caplog.text
    assert code in caplog.text


# Whole sign-ins through the platform's own provider (/o/), on a real server.


@pytest.fixture
def platform(django_db_blocker, settings):
    """The platform on loopback; it reaches its own provider there, as the run command lets it."""
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    server = start_server(django_db_blocker)
    yield server
    server.stop()


def openid_connect_at(server, application, secret) -> AuthenticationSetting:
    return make_setting(
        Type.OPENID_CONNECT,
        discovery_uri=f"{server.url}/o/.well-known/openid-configuration",
        client_id=application.client_id,
        client_secret=secret,
        scope="openid",
    )


def oauth2_userinfo_at(server, application, secret) -> AuthenticationSetting:
    return make_setting(
        Type.OAUTH2,
        token_url=f"{server.url}/o/token/",
        redirect_url=REDIRECT_URI,
        token_custom_action="userinfo",
        # The provider lives under /o/, so its discovery document is not at the origin's root.
        discovery_uri=f"{server.url}/o/.well-known/openid-configuration",
        client_id=application.client_id,
        client_secret=secret,
        scope="openid",
    )


def authorization_code(server, application, user, *, verifier: str, nonce: str) -> str:
    """Sign the user in at the provider's authorization endpoint (PKCE S256) for a code."""
    browser = Client()
    browser.force_login(user)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(8)
    response = httpx.get(
        f"{server.url}/o/authorize/",
        params={
            "response_type": "code",
            "client_id": application.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
        cookies={"sessionid": browser.cookies["sessionid"].value},
        timeout=10,
    )
    assert response.status_code == 302, response.text[:300]
    redirect = httpx.URL(response.headers["location"])
    assert redirect.params["state"] == state
    return redirect.params["code"]


def call(server, widget, action: str, body: dict) -> httpx.Response:
    return httpx.post(
        f"{server.url}/widget/{widget.widget_id}/auth/{action}",
        json=body,
        headers={"Origin": SITE},
        timeout=20,
    )


async def start_chat(server, widget, token: str) -> tuple[dict, int | None]:
    """The first frame a real socket gets for a start, and its close code if it was closed."""
    async with websockets.connect(
        f"{server.ws_url}/ws/widget/{widget.widget_id}/", origin=SITE
    ) as visitor:
        await visitor.send(json.dumps({"type": "start", "token": token}))
        frame = json.loads(await asyncio.wait_for(visitor.recv(), timeout=10))
        if frame["type"] != "error":
            return frame, None
        try:
            await asyncio.wait_for(visitor.recv(), timeout=10)
        except websockets.ConnectionClosed as closed:
            return frame, closed.rcvd.code
        raise AssertionError("the socket stayed open after an error at start")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("setting_at", [openid_connect_at, oauth2_userinfo_at])
def test_a_visitor_signed_in_at_the_platforms_own_provider_chats_authenticated(
    platform, workstream, django_user_model, setting_at
):
    user = django_user_model.objects.create_user("dana", "dana@example.com", "pw-0f-dana")
    application, secret = platform_client(REDIRECT_URI)
    widget = widget_for(workstream, setting_at(platform, application, secret))
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    code = authorization_code(platform, application, user, verifier=verifier, nonce=nonce)
    grant = {"code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier, "nonce": nonce}

    exchanged = call(platform, widget, "exchange", grant)
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.headers["access-control-allow-origin"] == SITE
    pair = exchanged.json()
    started, _ = asyncio.run(start_chat(platform, widget, pair["session_token"]))

    assert started["type"] == "started" and started["authenticated"] is True
    conversation = Conversation.objects.get(pk=started["conversation"])
    assert conversation.subject == str(user.pk)
    # A code is good for one exchange.
    again = call(platform, widget, "exchange", grant)
    assert (again.status_code, again.json()["code"]) == (400, "token_invalid")

    refreshed = call(platform, widget, "refresh", {"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    logout = call(platform, widget, "logout", {"refresh_token": refreshed.json()["refresh_token"]})
    assert logout.status_code == 204
    frame, close_code = asyncio.run(start_chat(platform, widget, refreshed.json()["session_token"]))
    assert (frame["code"], close_code) == ("token_revoked", 4401)
