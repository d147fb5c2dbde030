"""The health check and the metrics operators' tools call (CONTRACT.md "Operations")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.test import Client

from tests.messaging.sockets import refused_start, socket
from tests.ops.failures import expired, signed

METRICS_TOKEN = "metrics-token-for-tests"


def scrape(client: Client | None = None, token: str = METRICS_TOKEN):
    return (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of Prometheus text (0 when absent)."""
    wanted = name + (
        "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else ""
    )
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.django_db
def test_the_health_check_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_health_check_names_redis_when_it_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:9/0"  # the discard port: nothing listens
    settings.CACHES = {
        "default": {
            "BACKEND": "contactcenter.lib.shared_cache.KeptClientRedisCache",
            "LOCATION": settings.REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        503,
        {"status": "unavailable", "failing": "redis"},
    )


def test_metrics_are_off_without_a_token(client, settings):
    settings.CC_METRICS_TOKEN = ""
    assert scrape(client).status_code == 404


def test_metrics_need_the_token(client, settings):
    settings.CC_METRICS_TOKEN = METRICS_TOKEN
    assert client.get("/metrics").status_code == 401
    assert scrape(client, token="guess").status_code == 401
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    for name in (
        "cc_chat_starts_total",
        "cc_token_checks_seconds",
        "cc_key_fetches_total",
        "cc_open_sockets",
        "cc_apple_messages_total",
    ):
        assert f"# TYPE {name.removesuffix('_total')}" in response.content.decode(), name


@pytest.mark.django_db(transaction=True)
def test_metrics_count_a_refused_start_by_its_code(chat, keys, settings):
    widget, _ = chat
    settings.CC_METRICS_TOKEN = METRICS_TOKEN
    before = scrape().content.decode()

    async def starts():
        await refused_start(widget.widget_id, expired(keys))
        await refused_start(widget.widget_id, expired(keys))
        async with socket(widget.widget_id) as communicator:
            await communicator.send_json_to({"type": "start", "token": signed(keys)})
            assert (await communicator.receive_json_from(timeout=5))["type"] == "started"
            return scrape().content.decode()

    during = async_to_sync(starts)()
    after = scrape().content.decode()

    def grew(text, name, **labels):
        return sample(text, name, **labels) - sample(before, name, **labels)

    assert grew(after, "cc_chat_starts_total", result="token_expired") == 2
    assert grew(after, "cc_chat_starts_total", result="started") == 1
    assert grew(after, "cc_token_checks_seconds_count") == 3
    assert grew(during, "cc_open_sockets", kind="widget") == 1
    assert grew(after, "cc_open_sockets", kind="widget") == 0
    assert expired(keys) not in after and "portal.example.com" not in after


def listening_port(server: subprocess.Popen) -> str:
    """The port daphne says it listens on (it logs this once it is ready)."""
    for line in server.stderr:
        if "Listening on TCP address" in line:
            return line.rsplit(":", 1)[1].strip()
    raise AssertionError("daphne ended without listening")


@pytest.mark.integration
def test_with_several_processes_metrics_are_summed_across_them(tmp_path):
    """Two daphne processes sharing PROMETHEUS_MULTIPROC_DIR: either one reports both."""
    environment = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "CC_METRICS_TOKEN": METRICS_TOKEN,
        "CC_SECURE_TRANSPORT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CC_APPLE_MSP_ID": "",
    }
    (tmp_path / "metrics").mkdir()
    daphne = str(Path(sys.executable).with_name("daphne"))
    command = [daphne, "-b", "127.0.0.1", "-p", "0", "contactcenter.asgi:application"]
    servers = []
    try:
        for _ in range(2):
            servers.append(
                subprocess.Popen(  # noqa: S603
                    command,
                    cwd=django_settings.BASE_DIR,
                    env=environment,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        ports = [listening_port(server) for server in servers]
        for port in ports:
            answer = httpx.post(f"http://127.0.0.1:{port}/apple/message", content=b"{}", timeout=20)
            assert answer.json()["code"] == "not_configured"
        for port in ports:
            text = httpx.get(
                f"http://127.0.0.1:{port}/metrics",
                headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
                timeout=20,
            ).text
            assert (
                sample(text, "cc_apple_messages_total", direction="in", result="not_configured")
                == 2
            )
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
