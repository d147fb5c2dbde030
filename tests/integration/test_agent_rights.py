"""Signing out on one server process closes the agent's console socket on another: on
PostgreSQL and Redis (make test's integration run) the sign-out and the socket are on two
processes joined by the channels-redis layer; without Redis, one process serves both."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.live import agent_cookie, cluster

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def servers(django_db_blocker):
    """The server the agent signs out on and the one holding the socket (another process
    only where Redis joins them)."""
    with cluster(django_db_blocker) as started:
        yield started


def sign_out(server, cookie: str) -> None:
    """Press the console's Sign out button: its page first, for the CSRF cookie."""
    name, value = cookie.split("=", 1)
    with httpx.Client(base_url=server.url, cookies={name: value}) as browser:
        assert browser.get("/agent/").status_code == 200
        signed_out = browser.post(
            "/agent/logout/", headers={"X-CSRFToken": browser.cookies["csrftoken"]}
        )
        assert signed_out.status_code == 302


async def closed_after_sign_out(sign_out_server, socket_server, cookie: str):
    async with websockets.connect(
        f"{socket_server.ws_url}/ws/agent/",
        origin=socket_server.url,
        additional_headers={"Cookie": cookie},
    ) as agent:
        assert json.loads(await asyncio.wait_for(agent.recv(), timeout=10))["type"] == "queue"
        await asyncio.to_thread(sign_out, sign_out_server, cookie)
        error = json.loads(await asyncio.wait_for(agent.recv(), timeout=10))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(agent.recv(), timeout=10)
        return error, closed.value.rcvd.code


def test_signing_out_on_one_server_closes_the_console_socket_on_another(servers, bob):
    error, code = asyncio.run(closed_after_sign_out(servers[0], servers[-1], agent_cookie(bob)))
    assert (error["type"], error["code"], code) == ("error", "forbidden", 4403)
