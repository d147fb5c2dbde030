"""A queue's `agents`: usernames of users in the Agents group, set through the API and felt at
once by the agents' open console sockets."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from messaging.models import Conversation
from tests.helpers import make_agent
from tests.messaging.sockets import agent_socket

pytestmark = pytest.mark.django_db


@pytest.fixture
def erin(db):
    return make_agent("erin")


def queue_url(queue) -> str:
    return f"/api/v1/queues/{queue.pk}/"


def test_a_new_queue_has_no_agents_unless_given(api, workstream, bob, erin):
    plain = api.post("/api/v1/queues/", {"name": "Returns", "workstream": workstream.pk})
    assert plain.status_code == 201, plain.content
    assert plain.json()["agents"] == []
    staffed = api.post(
        "/api/v1/queues/",
        {"name": "Sales", "workstream": workstream.pk, "agents": ["erin", "bob"]},
    )
    assert staffed.status_code == 201, staffed.content
    assert staffed.json()["agents"] == ["bob", "erin"]
    assert api.get(f"/api/v1/queues/{staffed.json()['id']}/").json()["agents"] == ["bob", "erin"]
    assert [q.name for q in bob.queues.all()] == ["Sales"]


def test_agents_are_replaced_by_a_change_and_emptied_by_an_empty_list(api, workstream, bob, erin):
    queue = workstream.default_queue
    assert api.patch(queue_url(queue), {"agents": ["bob"]}).json()["agents"] == ["bob"]
    assert api.patch(queue_url(queue), {"agents": ["erin"]}).json()["agents"] == ["erin"]
    assert api.patch(queue_url(queue), {"name": "Main"}).json()["agents"] == ["erin"]
    assert api.patch(queue_url(queue), {"agents": []}).json()["agents"] == []
    assert not queue.agents.exists()


@pytest.mark.parametrize(
    ("agents", "message"),
    [
        (["charlie"], "No agent is named charlie"),
        (["nobody"], "No agent is named nobody"),
        ("bob", 'Expected a list of items but got type "str".'),
        ([{"username": "bob"}], "Name an agent by their username, a string."),
        ([None], "Name an agent by their username, a string."),
    ],
)
def test_a_username_that_is_not_an_agent_is_refused_with_a_message_on_the_field(
    api, workstream, bob, charlie, agents, message
):
    queue = workstream.default_queue
    response = api.patch(queue_url(queue), {"agents": agents})
    assert response.status_code == 400
    assert message in " ".join(response.json()["agents"])
    assert not queue.agents.exists()


def test_a_user_who_left_the_agents_group_is_no_longer_listed(api, workstream, bob, erin):
    queue = workstream.default_queue
    queue.agents.add(bob, erin)
    bob.groups.clear()
    assert api.get(queue_url(queue)).json()["agents"] == ["erin"]
    assert [q["agents"] for q in api.get("/api/v1/queues/").json()["results"]] == [["erin"]]


@pytest.mark.django_db(transaction=True)
async def test_an_agent_taken_off_a_queue_through_the_api_stops_hearing_of_it_at_once(
    api, workstream, chat_widget, bob
):
    queue = workstream.default_queue
    waiting = await sync_to_async(Conversation.objects.create)(
        channel_instance=chat_widget, queue=queue
    )
    await sync_to_async(api.patch)(queue_url(queue), {"agents": ["bob"]})
    agent = await agent_socket(bob)
    await agent.connect()
    try:
        listing = await agent.receive_json_from(timeout=5)
        assert [c["id"] for c in listing["conversations"]] == [str(waiting.pk)]
        await sync_to_async(api.patch)(queue_url(queue), {"agents": []})
        assert await agent.receive_json_from(timeout=5) == {"type": "queue", "conversations": []}
    finally:
        await agent.disconnect()
