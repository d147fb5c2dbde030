"""An open console socket keeps only the rights its agent still has: signing out, deactivation,
leaving the Agents group or staff, a new password or being deleted close it with 4403 at once, a
session that ends unseen is noticed within RIGHTS_RECHECK_SECONDS, and leaving or joining a
queue changes what it hears at once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client

from messaging import actions
from messaging.agent_socket import RIGHTS_RECHECK_SECONDS
from messaging.models import AGENTS_GROUP, Conversation
from tests.messaging.sockets import answer_to, connected, console_socket, refusal, signed_in
from workstreams.models import Queue

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "another correct horse battery staple"

in_db = database_sync_to_async


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@asynccontextmanager
async def console(client: Client, *, clock: Clock | None = None):
    """The console's socket of the client's session, past its first `queue` frame."""
    async with connected(console_socket(client, clock=clock)) as communicator:
        assert (await communicator.receive_json_from(timeout=5))["type"] == "queue"
        yield communicator


async def closed_for_rights(communicator) -> None:
    frame, code = await refusal(communicator)
    assert (frame["type"], frame["code"], code) == ("error", "forbidden", 4403)


async def closed_for_rights_leaving_every_group(communicator) -> None:
    """Closed for want of rights, and with it, the only socket open, every group is left."""
    await closed_for_rights(communicator)
    assert get_channel_layer().groups == {}


async def waiting_conversation(widget, *, vip: bool) -> str:
    """A new conversation routed to the VIP queue or, when not vip, to General."""
    started = await in_db(actions.do_start_conversation)(
        widget, deployment=None, identity=None, context={"msdyn_isvip": vip}, dropped=[]
    )
    return str(started.conversation.pk)


@pytest.fixture
def queues(chat, workstream) -> dict[str, Queue]:
    return {queue.name: queue for queue in workstream.queues.all()}


def deactivate(user) -> None:
    user.is_active = False
    user.save()


def agents() -> Group:
    return Group.objects.get(name=AGENTS_GROUP)


def unstaff(user) -> None:
    user.is_staff = False
    user.save()


def give_a_new_password(user) -> None:
    user.set_password(NEW_PASSWORD)
    user.save()


REVOCATIONS: dict[str, Callable] = {
    "deactivated": deactivate,
    "no longer staff": unstaff,
    "given a new password": give_a_new_password,
    "removed from the Agents group": lambda user: user.groups.remove(agents()),
    "taken out by the Agents group": lambda user: agents().user_set.remove(user),
    "left with no groups": lambda user: user.groups.clear(),
    "in an Agents group emptied": lambda user: agents().user_set.clear(),
    "in an Agents group deleted": lambda user: agents().delete(),
    "deleted": lambda user: user.delete(),
}


@pytest.mark.parametrize("change", list(REVOCATIONS))
async def test_an_agent_socket_closes_at_once_when_the_agent_is(on_duty, change):
    async with console(await signed_in(on_duty)) as agent:
        await in_db(REVOCATIONS[change])(on_duty)
        await closed_for_rights_leaving_every_group(agent)


@pytest.mark.parametrize("path", ["/agent/logout/", "/admin/logout/"])
async def test_signing_out_closes_the_console_socket_of_that_session(on_duty, path):
    browser = await signed_in(on_duty)
    async with console(browser) as agent:
        response = await sync_to_async(browser.post)(path, secure=True)
        assert response.status_code in (200, 302)
        await closed_for_rights(agent)


async def test_signing_out_in_one_browser_leaves_the_console_in_another_open(on_duty, workstream):
    laptop, desk = await signed_in(on_duty), await signed_in(on_duty)
    async with AsyncExitStack() as stack:
        on_laptop = await stack.enter_async_context(console(laptop))
        on_desk = await stack.enter_async_context(console(desk))
        await sync_to_async(laptop.post)("/agent/logout/", secure=True)
        await closed_for_rights(on_laptop)
        # Anything told to the agent after the sign-out reaches the desk's socket after it.
        returns = await in_db(Queue.objects.create)(name="Returns", workstream=workstream)
        await in_db(returns.agents.add)(on_duty)
        assert (await on_desk.receive_json_from(timeout=5))["type"] == "queue"


async def test_a_socket_whose_session_ended_without_a_sign_out_is_closed_at_its_next_frame(
    on_duty,
):
    async with console(await signed_in(on_duty)) as agent:
        await in_db(Session.objects.all().delete)()
        await agent.send_json_to({"type": "accept", "conversation": str(uuid.uuid4())})
        await closed_for_rights(agent)


async def test_an_admin_changing_the_agents_password_closes_the_console_socket_at_once(
    on_duty, alice
):
    admin = await signed_in(alice)
    async with console(await signed_in(on_duty)) as agent:
        response = await sync_to_async(admin.post)(
            f"/admin/auth/user/{on_duty.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            secure=True,
        )
        assert response.status_code == 302
        await closed_for_rights_leaving_every_group(agent)


async def test_a_socket_whose_session_ended_unseen_forwards_no_event_once_its_rights_are_stale(
    chat, queues, on_duty, clock
):
    widget, _ = chat
    async with console(await signed_in(on_duty), clock=clock) as agent:
        await in_db(Session.objects.all().delete)()
        await waiting_conversation(widget, vip=False)
        # Rights read less than RIGHTS_RECHECK_SECONDS ago are trusted.
        assert (await agent.receive_json_from(timeout=5))["type"] == "waiting"

        clock.advance(RIGHTS_RECHECK_SECONDS)
        await waiting_conversation(widget, vip=False)
        await closed_for_rights_leaving_every_group(agent)


async def test_a_socket_whose_stale_rights_still_hold_goes_on_forwarding_events(
    chat, queues, on_duty, clock
):
    widget, _ = chat
    async with console(await signed_in(on_duty), clock=clock) as agent:
        for _ in range(2):
            clock.advance(RIGHTS_RECHECK_SECONDS)
            conversation = await waiting_conversation(widget, vip=False)
            waiting = await agent.receive_json_from(timeout=5)
            assert (waiting["type"], waiting["conversation"]["id"]) == ("waiting", conversation)


async def test_an_agent_deactivated_without_signals_is_refused_at_their_next_frame(
    on_duty, django_user_model
):
    async with console(await signed_in(on_duty)) as agent:
        await in_db(django_user_model.objects.filter(pk=on_duty.pk).update)(is_active=False)
        await agent.send_json_to({"type": "accept", "conversation": str(uuid.uuid4())})
        await closed_for_rights(agent)


LEAVING: dict[str, Callable] = {
    "the queue removes the agent": lambda queue, user: queue.agents.remove(user),
    "the agent leaves the queue": lambda queue, user: user.queues.remove(queue),
    "the queue drops all its agents": lambda queue, user: queue.agents.clear(),
    "the agent leaves every queue": lambda queue, user: user.queues.clear(),
}


@pytest.mark.parametrize("how", list(LEAVING))
async def test_an_agent_who_leaves_a_queue_stops_hearing_of_it_at_once(
    chat, queues, on_duty, workstream, how
):
    widget, _ = chat
    waiting_vip = await waiting_conversation(widget, vip=True)
    async with console(await signed_in(on_duty)) as agent:
        await in_db(LEAVING[how])(queues["VIP"], on_duty)
        listing = await agent.receive_json_from(timeout=5)
        assert listing["type"] == "queue"
        assert waiting_vip not in [c["id"] for c in listing["conversations"]]

        await waiting_conversation(widget, vip=True)
        # Told after the new VIP conversation: had the socket still heard the VIP queue, its
        # `waiting` frame would come first.
        returns = await in_db(Queue.objects.create)(name="Returns", workstream=workstream)
        await in_db(returns.agents.add)(on_duty)
        assert (await agent.receive_json_from(timeout=5))["type"] == "queue"
        assert (await answer_to(agent, "accept", waiting_vip))["code"] == "not_found"


JOINING: dict[str, Callable] = {
    "the queue adds the agent": lambda queue, user: queue.agents.add(user),
    "the agent joins the queue": lambda queue, user: user.queues.add(queue),
}


@pytest.mark.parametrize("how", list(JOINING))
async def test_an_agent_who_joins_a_queue_is_sent_its_waiting_conversations_and_new_ones(
    chat, queues, bob, how
):
    widget, _ = chat
    await in_db(bob.queues.add)(queues["General"])
    waiting_vip = await waiting_conversation(widget, vip=True)
    async with console(await signed_in(bob)) as agent:
        await in_db(JOINING[how])(queues["VIP"], bob)
        listing = await agent.receive_json_from(timeout=5)
        assert listing["type"] == "queue"
        assert [c["id"] for c in listing["conversations"]] == [waiting_vip]

        newer = await waiting_conversation(widget, vip=True)
        waiting = await agent.receive_json_from(timeout=5)
        assert (waiting["type"], waiting["conversation"]["id"]) == ("waiting", newer)


ACCEPT_REFUSALS: dict[str, Callable] = {
    "deactivated": deactivate,
    "removed from the Agents group": lambda user: user.groups.remove(agents()),
    "no longer staff": unstaff,
}


@pytest.mark.parametrize("change", list(ACCEPT_REFUSALS))
def test_a_user_who_is_no_longer_an_agent_cannot_accept_a_conversation_of_their_queues(
    chat, on_duty, change
):
    widget, _ = chat
    conversation = actions.do_start_conversation(
        widget, deployment=None, identity=None, context={}, dropped=[]
    ).conversation
    ACCEPT_REFUSALS[change](on_duty)
    with pytest.raises(actions.ActionRefused) as refused:
        actions.do_accept_conversation(conversation.pk, acting_user=on_duty)
    assert refused.value.code == "not_found"
    conversation.refresh_from_db()
    assert (conversation.status, conversation.agent) == (Conversation.Status.WAITING, None)
