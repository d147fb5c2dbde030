"""Limits per client address on the widget socket and the sign-in endpoints: open sockets,
starts and resumes, counted per visitor even behind a trusted reverse proxy."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from messaging import ratelimits
from messaging.presence import presence
from tests.keyserver import token_for
from tests.messaging.sockets import refusal, socket

pytestmark = pytest.mark.django_db(transaction=True)

VISITOR = ("203.0.113.5", 50000)
PROXY = ("10.0.0.1", 50000)


def forwarded_for(address: str) -> tuple[tuple[bytes, bytes], ...]:
    return ((b"x-forwarded-for", address.encode()),)


async def answer_to_a_probe(communicator) -> tuple[str, int]:
    """Send a frame no socket expects and return the first error code and the close code that
    follow. An admitted socket answers the probe itself (`bad_frame`, 4400); a socket refused
    for its address has already said `rate_limited` and reads nothing more."""
    await communicator.send_json_to({"type": "probe"})
    frame, code = await refusal(communicator)
    return frame["code"], code


ADMITTED = ("bad_frame", 4400)


async def test_one_address_holds_twenty_open_sockets_and_no_more(chat):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        for _ in range(ratelimits.MAX_SOCKETS_PER_ADDRESS):
            communicator = await stack.enter_async_context(socket(widget.widget_id, client=VISITOR))
        async with socket(widget.widget_id, client=VISITOR) as over:
            frame, code = await refusal(over)
        assert (frame["code"], code) == ("rate_limited", 4429)
        async with socket(widget.widget_id, client=("203.0.113.6", 50000)) as elsewhere:
            assert await answer_to_a_probe(elsewhere) == ADMITTED
        await communicator.disconnect()
        async with socket(widget.widget_id, client=VISITOR) as again:
            assert await answer_to_a_probe(again) == ADMITTED


async def test_sockets_held_open_past_the_counts_safety_net_still_count(chat, keys):
    widget, _ = chat
    async with AsyncExitStack() as stack:
        for _ in range(ratelimits.MAX_SOCKETS_PER_ADDRESS):
            communicator = await stack.enter_async_context(socket(widget.widget_id, client=VISITOR))
        await communicator.send_json_to({"type": "start", "token": token_for(keys)})
        await communicator.receive_json_from(timeout=5)
        # What the safety net does to a count nobody renews, while the sockets stay open.
        await database_sync_to_async(cache.delete)(ratelimits.socket_key(VISITOR[0]))

        await presence.tick(timezone.now())

        async with socket(widget.widget_id, client=VISITOR) as over:
            frame, code = await refusal(over)
        assert (frame["code"], code) == ("rate_limited", 4429)


async def test_behind_a_trusted_proxy_open_sockets_count_per_visitor(chat, settings, monkeypatch):
    settings.CC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    monkeypatch.setattr(ratelimits, "MAX_SOCKETS_PER_ADDRESS", 1)
    widget, _ = chat
    first = socket(widget.widget_id, client=PROXY, headers=forwarded_for("203.0.113.5"))
    async with (
        first,
        socket(widget.widget_id, client=PROXY, headers=forwarded_for("203.0.113.6")) as second,
    ):
        assert await answer_to_a_probe(second) == ADMITTED
        async with socket(
            widget.widget_id, client=PROXY, headers=forwarded_for("203.0.113.5")
        ) as third:
            frame, code = await refusal(third)
    assert (frame["code"], code) == ("rate_limited", 4429)


async def test_a_visitor_cannot_choose_the_address_its_sockets_count_against(chat, monkeypatch):
    monkeypatch.setattr(ratelimits, "MAX_SOCKETS_PER_ADDRESS", 1)
    widget, _ = chat
    first = socket(widget.widget_id, client=VISITOR, headers=forwarded_for("198.51.100.1"))
    second = socket(widget.widget_id, client=VISITOR, headers=forwarded_for("198.51.100.2"))
    async with first, second as refused:
        frame, code = await refusal(refused)
    assert (frame["code"], code) == ("rate_limited", 4429)


async def test_a_flood_of_resumes_is_rate_limited_like_starts(chat, settings):
    settings.CC_WIDGET_STARTS_PER_MINUTE = 2
    widget, _ = chat
    guess = {
        "type": "resume",
        "conversation": "87b4d06c-abc2-e811-a9b0-000d3a10e09e",
        "resume_token": "guess",
    }
    outcomes = []
    for _ in range(3):
        async with socket(widget.widget_id, client=VISITOR) as communicator:
            await communicator.send_json_to(guess)
            frame, code = await refusal(communicator)
            outcomes.append((frame["code"], code))
    assert outcomes == [("resume_invalid", 4401), ("resume_invalid", 4401), ("rate_limited", 4429)]


async def test_behind_a_trusted_proxy_starts_count_per_visitor(chat, keys, settings):
    settings.CC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.CC_WIDGET_STARTS_PER_MINUTE = 1
    widget, _ = chat
    frames = []
    for visitor in ("203.0.113.5", "203.0.113.6", "203.0.113.5"):
        async with socket(
            widget.widget_id, client=PROXY, headers=forwarded_for(visitor)
        ) as communicator:
            await communicator.send_json_to({"type": "start", "token": token_for(keys)})
            frames.append(await communicator.receive_json_from(timeout=5))
    assert [frame["type"] for frame in frames] == ["started", "started", "error"]
    assert frames[2]["code"] == "rate_limited"


def test_behind_a_trusted_proxy_sign_ins_count_per_visitor(chat, settings):
    settings.CC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.CC_WIDGET_STARTS_PER_MINUTE = 1
    widget, _ = chat

    def logout(visitor: str) -> int:
        return (
            Client()
            .post(
                f"/widget/{widget.widget_id}/auth/logout",
                data=json.dumps({"refresh_token": "unknown.token"}),
                content_type="application/json",
                HTTP_ORIGIN="https://portal.example.com",
                REMOTE_ADDR=PROXY[0],
                HTTP_X_FORWARDED_FOR=visitor,
            )
            .status_code
        )

    assert [logout(v) for v in ("203.0.113.5", "203.0.113.6", "203.0.113.5")] == [204, 204, 429]
