"""Which pages and addresses may reach the widget socket, the sign-in endpoints and the agent
console's socket: origins compared by host and port, and the platform's own origin taken from
CC_PUBLIC_URL or from a Host that passed ALLOWED_HOSTS, never from any Host a client sends."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.test import Client, RequestFactory

from messaging import checks
from messaging.domains import platform_url
from messaging.models import Conversation, Deployment
from tests.helpers import errors_of
from tests.keyserver import token_for
from tests.messaging.sockets import console, refusal, refused_start, socket

pytestmark = pytest.mark.django_db(transaction=True)


async def started_from(widget, keys, **where: str) -> dict:
    """The answer to a start with a valid token on a socket opened from `where` (origin,
    host)."""
    async with socket(widget.widget_id, **where) as communicator:
        await communicator.send_json_to({"type": "start", "token": token_for(keys)})
        return await communicator.receive_json_from(timeout=5)


async def assert_starts_only_from(
    widget, keys, origin: str, *, not_from: str, **where: str
) -> None:
    """A start with a valid token from a page at `origin` is answered, one from `not_from` is
    refused as origin_not_allowed; both on sockets opened from `where` (host)."""
    assert (await started_from(widget, keys, origin=origin, **where))["type"] == "started"
    frame, code = await refused_start(widget.widget_id, token_for(keys), origin=not_from, **where)
    assert (frame["code"], code) == ("origin_not_allowed", 4403)


async def allow(deployment, *domains: str) -> None:
    deployment.allowed_domains = list(domains)
    await database_sync_to_async(deployment.save)()


# The widget socket


async def test_a_rebound_host_cannot_pass_its_own_origin_off_as_the_platforms(chat, keys):
    widget, _ = chat
    async with socket(
        widget.widget_id, origin="http://evil.example", host="evil.example"
    ) as communicator:
        frame, code = await refusal(communicator)
    assert (frame["code"], code) == ("origin_not_allowed", 4403)
    assert not await database_sync_to_async(Conversation.objects.exists)()


async def test_a_socket_to_a_host_not_in_allowed_hosts_is_refused_even_from_a_deployed_site(chat):
    widget, _ = chat
    async with socket(widget.widget_id, host="evil.example") as communicator:
        frame, code = await refusal(communicator)
    assert (frame["code"], code) == ("origin_not_allowed", 4403)


async def test_an_allowed_domain_does_not_allow_its_host_on_another_port(chat, keys):
    widget, deployment = chat
    await allow(deployment, "localhost")
    frame, code = await refused_start(
        widget.widget_id, token_for(keys), origin="http://localhost:9999"
    )
    assert (frame["code"], code) == ("origin_not_allowed", 4403)
    assert "localhost:9999" in frame["detail"]


@pytest.mark.parametrize("origin", ["http://localhost", "https://localhost"])
async def test_a_bare_allowed_domain_allows_its_default_ports(chat, keys, origin):
    widget, deployment = chat
    await allow(deployment, "localhost")
    assert (await started_from(widget, keys, origin=origin))["type"] == "started"


async def test_an_allowed_domain_with_a_port_allows_that_port_only(chat, keys):
    widget, deployment = chat
    await allow(deployment, "localhost:3000")
    await assert_starts_only_from(
        widget, keys, "http://localhost:3000", not_from="http://localhost"
    )


async def test_the_platforms_own_origin_is_its_host_on_its_port_only(chat, keys):
    widget, _ = chat
    await assert_starts_only_from(
        widget,
        keys,
        "http://localhost:8000",
        not_from="http://localhost:9999",
        host="localhost:8000",
    )


async def test_with_a_public_url_the_platforms_own_origin_is_that_url(chat, keys, settings):
    settings.CC_PUBLIC_URL = "https://cc.example.com"
    settings.ALLOWED_HOSTS = ["cc.example.com", "localhost"]
    widget, _ = chat
    # Behind a proxy the socket may arrive for an internal host: the page's origin still counts.
    await assert_starts_only_from(
        widget,
        keys,
        "https://cc.example.com",
        not_from="http://localhost:8000",
        host="localhost:8000",
    )


async def test_an_inactive_deployment_cannot_be_reached_through_a_rebound_host(chat, keys):
    widget, deployment = chat
    deployment.status = Deployment.Status.INACTIVE
    await database_sync_to_async(deployment.save)()
    async with socket(
        widget.widget_id, origin="https://portal.example.com", host="portal.example.com"
    ) as communicator:
        frame, code = await refusal(communicator)
    assert (frame["code"], code) == ("origin_not_allowed", 4403)


# The sign-in endpoints


@pytest.fixture
def signin_widget(chat):
    widget, deployment = chat
    deployment.allowed_domains = ["localhost"]
    deployment.save()
    return widget


def logout(widget, origin: str, host: str = "localhost"):
    return Client().post(
        f"/widget/{widget.widget_id}/auth/logout",
        data=json.dumps({"refresh_token": "unknown.token"}),
        content_type="application/json",
        HTTP_ORIGIN=origin,
        HTTP_HOST=host,
    )


def test_the_sign_in_endpoints_refuse_an_allowed_host_on_another_port(signin_widget):
    response = logout(signin_widget, "http://localhost:9999")
    assert (response.status_code, response.json()["code"]) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in response
    assert logout(signin_widget, "http://localhost").status_code == 204


def test_the_sign_in_endpoints_take_the_platforms_own_origin_by_port(signin_widget):
    Deployment.objects.update(allowed_domains=["portal.example.com"])
    assert logout(signin_widget, "http://localhost:8000", host="localhost:8000").status_code == 204
    response = logout(signin_widget, "http://localhost:9999", host="localhost:8000")
    assert response.status_code == 403


def test_the_sign_in_endpoints_answer_a_foreign_host_with_a_400(signin_widget):
    assert logout(signin_widget, "http://evil.example", host="evil.example").status_code == 400


# The agent console's socket


async def test_the_console_socket_opens_from_the_platforms_own_origin(bob):
    async with console(bob, origin="http://localhost:8000") as communicator:
        assert (await communicator.receive_json_from(timeout=5))["type"] == "queue"


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        ("http://localhost:9999", "localhost:8000"),
        ("http://evil.example", "evil.example"),
        ("https://portal.example.com", "localhost:8000"),
        (None, "localhost:8000"),
    ],
)
async def test_the_console_socket_refuses_other_origins_and_hosts(bob, origin, host):
    async with console(bob, origin=origin, host=host) as communicator:
        frame, code = await refusal(communicator)
    assert (frame["code"], code) == ("origin_not_allowed", 4403)


# Allowed domains and the addresses handed out


@pytest.mark.parametrize("entry", ["localhost:3000", "shop.example.com:8443", "example.com:1"])
def test_an_allowed_domain_may_name_a_port(chat_widget, entry):
    Deployment(name="Site", channel_instance=chat_widget, allowed_domains=[entry]).full_clean()


@pytest.mark.parametrize(
    "entry",
    ["localhost:0", "localhost:65536", "localhost:", "localhost:http", "http://localhost:3000"],
)
def test_an_allowed_domains_port_is_one_to_65535(chat_widget, entry):
    deployment = Deployment(name="Site", channel_instance=chat_widget, allowed_domains=[entry])
    assert "allowed_domains" in errors_of(deployment)


def test_an_allowed_domain_with_a_port_is_kept_in_lower_case_without_a_trailing_dot(chat_widget):
    deployment = Deployment(
        name="Site", channel_instance=chat_widget, allowed_domains=["Shop.Example.com.:8443"]
    )
    deployment.full_clean()
    assert deployment.allowed_domains == ["shop.example.com:8443"]


def test_addresses_handed_out_use_the_public_url_when_it_is_set(settings):
    request = RequestFactory().get("/", HTTP_HOST="localhost:8000")
    assert platform_url(request) == "http://localhost:8000"
    settings.CC_PUBLIC_URL = "https://cc.example.com"
    assert platform_url(request) == "https://cc.example.com"


def test_a_public_url_whose_host_is_not_served_is_warned_about(settings):
    settings.CC_PUBLIC_URL = "https://cc.example.com"
    assert [w.id for w in checks.public_url_not_served(None)] == ["messaging.W003"]
    settings.ALLOWED_HOSTS = ["cc.example.com"]
    assert checks.public_url_not_served(None) == []
