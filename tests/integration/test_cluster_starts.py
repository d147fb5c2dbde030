"""What chat starts read, across the cluster's processes: on Redis (make test's integration
run) two processes, without Redis the one that serves.

A change made through one process is seen by the next start on every process, though each
keeps what a start reads; on a cold key cache the starts on every process have the key URL
fetched once."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
import websockets
from channels.db import database_sync_to_async

from tests.api_clients import create_api_client
from tests.keyserver import token_for
from tests.live import cluster, receive

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "https://portal.example.com"
STARTS = 16  # under the open sockets allowed from one address


def call(server, method: str, path: str, body: dict, access_token: str | None = None) -> dict:
    """A request to the live server (a form to the token endpoint, JSON elsewhere); its
    decoded JSON answer."""
    if path == "/o/token/":
        data, kind = urlencode(body).encode(), "application/x-www-form-urlencoded"
    else:
        data, kind = json.dumps(body).encode(), "application/json"
    headers = {"Content-Type": kind}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    request = Request(f"{server.url}{path}", data=data, headers=headers, method=method)  # noqa: S310
    with urlopen(request, timeout=10) as response:  # noqa: S310  (a live server on loopback)
        return json.loads(response.read())


async def first_answer(server, widget, token) -> dict:
    url = f"{server.ws_url}/ws/widget/{widget.widget_id}/"
    async with websockets.connect(url, origin=SITE) as socket:
        await socket.send(json.dumps({"type": "start", "token": token}))
        return await receive(socket)


@pytest.fixture
def servers(django_db_blocker, chat):
    with cluster(django_db_blocker) as started:
        yield started


async def test_a_deployment_made_inactive_on_one_process_refuses_the_next_start_on_another(
    servers, chat, keys
):
    widget, deployment = chat
    credentials = await database_sync_to_async(create_api_client)(
        "Operations", "config:read config:write"
    )
    changer, starter = servers[0], servers[-1]
    assert (await first_answer(starter, widget, token_for(keys)))["type"] == "started"
    token = await asyncio.to_thread(
        call, changer, "POST", "/o/token/", {"grant_type": "client_credentials"} | credentials
    )
    changed = await asyncio.to_thread(
        call,
        changer,
        "PATCH",
        f"/api/v1/deployments/{deployment.pk}/",
        {"status": "inactive"},
        token["access_token"],
    )
    assert changed["status"] == "inactive"
    refused = await first_answer(starter, widget, token_for(keys))
    assert (refused["type"], refused["code"]) == ("error", "deployment_inactive")


async def test_concurrent_starts_on_a_cold_cache_fetch_the_key_once_for_the_cluster(
    servers, chat, keys, key_server
):
    widget, _ = chat
    answers = await asyncio.gather(
        *(first_answer(servers[n % len(servers)], widget, token_for(keys)) for n in range(STARTS))
    )
    assert [answer["type"] for answer in answers] == ["started"] * STARTS
    assert key_server.hits["/publickey"] == 1
