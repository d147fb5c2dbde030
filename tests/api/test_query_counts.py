"""A list costs the same number of queries for one record as for fifty."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.models import ChannelType
from messaging.models import ChannelInstance, Contact, Conversation, Message, RichMessage
from tests.helpers import Type, deploy, make_agent, make_chat_widget, make_setting
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

pytestmark = pytest.mark.django_db

serial = count()


def a_workstream() -> Workstream:
    workstream = Workstream.objects.create(
        name=f"Workstream {next(serial)}", channel_type=ChannelType.LIVE_CHAT
    )
    workstream.default_queue = Queue.objects.create(name="General", workstream=workstream)
    workstream.save()
    ContextVariable.objects.create(workstream=workstream, name="a")
    ContextVariable.objects.create(workstream=workstream, name="b")
    return workstream


def a_widget(workstream: Workstream) -> ChannelInstance:
    return make_chat_widget(workstream, name=f"Widget {next(serial)}", require_authentication=False)


def a_conversation() -> Conversation:
    workstream = a_workstream()
    conversation = Conversation.objects.create(
        channel_instance=a_widget(workstream),
        queue=workstream.default_queue,
        contact=Contact.objects.create(full_name="Ada"),
        authenticated=True,
        authenticated_until=timezone.now(),
    )
    Message.objects.create(conversation=conversation, sender="visitor", text="Hello")
    return conversation


def a_staffed_queue() -> Queue:
    queue = a_workstream().default_queue
    queue.agents.add(make_agent(f"agent{next(serial)}"))
    return queue


def a_rule() -> RoutingRule:
    workstream = a_workstream()
    return RoutingRule.objects.create(
        workstream=workstream,
        name="Rule",
        conditions=[{"variable": "a", "operator": "exists"}],
        queue=workstream.default_queue,
    )


ROWS: dict[str, Callable[[object], object]] = {
    "authentication-settings": lambda owner: make_setting(Type.OAUTH2_CODE, owner=owner),
    "workstreams": lambda owner: a_workstream(),
    "context-variables": lambda owner: a_workstream(),
    "queues": lambda owner: a_staffed_queue(),
    "routing-rules": lambda owner: a_rule(),
    "rich-messages": lambda owner: RichMessage.objects.create(name="M", type="form"),
    "channel-instances": lambda owner: a_widget(a_workstream()),
    "deployments": lambda owner: deploy(
        a_widget(a_workstream()), name="Site", site="a.example.com"
    ),
    "contacts": lambda owner: Contact.objects.create(full_name="Ada"),
    "conversations": lambda owner: a_conversation(),
}


def queries_for_list(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/v1/{path}/")
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", list(ROWS))
def test_a_list_costs_the_same_queries_for_one_record_as_for_fifty(api, alice, path):
    ROWS[path](alice)
    one = queries_for_list(api, path)
    for _ in range(49):
        ROWS[path](alice)
    listing = api.get(f"/api/v1/{path}/").json()
    assert listing["count"] >= 50
    if path == "queues":
        # Each queue's agent is listed, so the count covers fetching the agents too.
        assert all(len(queue["agents"]) == 1 for queue in listing["results"])
    assert queries_for_list(api, path) == one
