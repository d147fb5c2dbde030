"""What a chat start reads is kept per process, and a change to any of it is seen by the very
next start; a start that finds everything kept reads the database once besides its writes. An
accepted conversation's summary shows its channel and queue from the same copies."""

from __future__ import annotations

import json
import re
import time

import pytest
from channels.db import database_sync_to_async

from messaging import conversations, customer_sessions
from messaging.models import Conversation, Deployment
from tests.keyserver import token_for
from tests.messaging.sockets import refused_start, socket
from workstreams.models import ContextVariable, RoutingRule

pytestmark = pytest.mark.django_db(transaction=True)

VIP = json.dumps({"msdyn_isvip": "true"})


async def started_conversation(widget, token) -> Conversation:
    """Start a chat on the widget's socket; the conversation it stored."""
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": token})
        started = await communicator.receive_json_from(timeout=5)
        assert started["type"] == "started", started
    return await database_sync_to_async(Conversation.objects.select_related("queue").get)(
        pk=started["conversation"]
    )


async def test_a_start_sees_a_deployment_made_inactive_since_the_last_one(chat, keys):
    widget, deployment = chat
    await started_conversation(widget, token_for(keys))
    deployment.status = Deployment.Status.INACTIVE
    await database_sync_to_async(deployment.save)()
    frame, code = await refused_start(widget.widget_id, token_for(keys))
    assert (frame["code"], code) == ("deployment_inactive", 4403)


async def test_a_start_sees_a_domain_added_to_a_deployment_since_the_last_one(chat, keys):
    widget, deployment = chat
    frame, _ = await refused_start(widget.widget_id, token_for(keys), origin="https://shop.test")
    assert frame["code"] == "origin_not_allowed"
    deployment.allowed_domains = [*deployment.allowed_domains, "shop.test"]
    await database_sync_to_async(deployment.save)()
    async with socket(widget.widget_id, origin="https://shop.test") as communicator:
        await communicator.send_json_to({"type": "start", "token": token_for(keys)})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "started"


async def test_a_start_is_routed_by_a_rule_changed_since_the_last_one(chat, keys):
    widget, _ = chat
    first = await started_conversation(widget, token_for(keys, lwicontexts=VIP))
    assert first.queue.name == "VIP"
    rule = await database_sync_to_async(RoutingRule.objects.get)(name="VIP first")
    rule.priority = 50
    await database_sync_to_async(rule.save)()
    second = await started_conversation(widget, token_for(keys, lwicontexts=VIP))
    assert (second.queue.name, second.priority) == ("VIP", 50)
    await database_sync_to_async(rule.delete)()
    third = await started_conversation(widget, token_for(keys, lwicontexts=VIP))
    assert (third.queue.name, third.priority) == ("General", 0)


async def test_a_start_keeps_a_context_variable_added_since_the_last_one(chat, keys, workstream):
    widget, _ = chat
    token = token_for(keys, lwicontexts=json.dumps({"tier": "gold"}))
    before = await started_conversation(widget, token)
    assert before.context == {}
    assert before.authentication["context_dropped"] == ["tier"]
    await database_sync_to_async(ContextVariable.objects.create)(workstream=workstream, name="tier")
    after = await started_conversation(widget, token)
    assert after.context == {"tier": "gold"}


async def test_a_start_is_checked_by_the_setting_as_changed_since_the_last_one(chat, keys):
    widget, _ = chat
    await started_conversation(widget, token_for(keys))
    setting = widget.authentication_setting
    setting.expected_issuer = "https://another-issuer.example.com"
    await database_sync_to_async(setting.save)()
    frame, code = await refused_start(widget.widget_id, token_for(keys))
    assert (frame["code"], code) == ("issuer_mismatch", 4401)


async def test_a_start_sees_the_widget_changed_since_the_last_one(chat, keys):
    widget, _ = chat
    frame, _ = await refused_start(widget.widget_id, None)
    assert frame["code"] == "token_missing"
    widget.require_authentication = False
    await database_sync_to_async(widget.save)()
    async with socket(widget.widget_id) as communicator:
        await communicator.send_json_to({"type": "start", "token": None})
        started = await communicator.receive_json_from(timeout=5)
        assert (started["type"], started["authenticated"]) == ("started", False)


def start_steps(widget_id, token: str):
    """A start's reads and writes, as the widget's socket makes them."""
    reads = conversations.find_widget(widget_id)
    deployment = reads.deployment_rows[str(reads.deployments[0].deployment_id)]
    verified = conversations.verify_token(reads.widget, token, now=time.time())
    return customer_sessions.arrive(reads.widget, deployment, verified, routing=reads.routing)


def test_a_start_after_the_first_reads_nothing_from_the_database_besides_its_writes(
    chat, keys, django_assert_max_num_queries
):
    widget, _ = chat
    start_steps(widget.widget_id, token_for(keys))
    # The transaction's two ends, the conversation and its first message.
    with django_assert_max_num_queries(4) as captured:
        started = start_steps(widget.widget_id, token_for(keys, lwicontexts=VIP))
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")]
    assert len(reads) == 0 and len(writes) == 2
    # The transcript the socket replays is the one stored.
    assert started.transcript == conversations.transcript(started.conversation.pk)
    assert [frame["sender"] for frame in started.transcript] == ["system"]


CART = json.dumps({"msdyn_cartvalue": "120"})


def accepted_summary(widget, keys, agent) -> dict:
    started = start_steps(widget.widget_id, token_for(keys, lwicontexts=CART))
    summary, _ = conversations.accept_conversation(str(started.conversation.pk), agent)
    return summary


def test_an_accepted_conversation_shows_its_channel_and_queue_as_changed_since_the_last_one(
    chat, keys, on_duty, workstream
):
    widget, _ = chat
    before = accepted_summary(widget, keys, on_duty)
    assert [item["name"] for item in before["context"]] == ["msdyn_cartvalue"]
    assert before["queue"]["name"] == "General"
    variable = ContextVariable.objects.get(workstream=workstream, name="msdyn_cartvalue")
    variable.display_to_agent = False
    variable.save()
    queue = workstream.default_queue
    queue.name = "Web"
    queue.save()
    widget.name = "Portal chat"
    widget.save()
    after = accepted_summary(widget, keys, on_duty)
    assert (after["context"], after["queue"]["name"], after["channel"]) == (
        [],
        "Web",
        "Portal chat",
    )


def test_an_accept_reads_the_conversations_channel_and_queue_from_what_the_process_keeps(
    chat, keys, on_duty, django_assert_max_num_queries
):
    widget, _ = chat
    accepted_summary(widget, keys, on_duty)
    started = start_steps(widget.widget_id, token_for(keys, lwicontexts=CART))
    with django_assert_max_num_queries(7) as captured:
        summary, _ = conversations.accept_conversation(str(started.conversation.pk), on_duty)
    assert summary["channel"] == widget.name
    read_tables = {
        table
        for query in captured.captured_queries
        if query["sql"].startswith("SELECT")
        for table in re.findall(r'(?:FROM|JOIN) "(\w+)"', query["sql"])
    }
    # The conversation with its contact, and its transcript; its queue id on SQLite.
    assert read_tables == {"messaging_conversation", "messaging_contact", "messaging_message"}
