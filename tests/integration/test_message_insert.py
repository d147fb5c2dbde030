"""A message stored in one statement (messaging.message_insert): it fills every column of a
message, and one posted while its conversation closes waits for the close and is refused
after it, so nothing is said in a conversation once it has closed. A new conversation and its
first message are one statement too: stored as the ORM would store them, or not at all; and so
are an agent's taking of a waiting conversation and its "joined" message: of two agents taking
one conversation at once, one gets it. On PostgreSQL a message's statement, run again, is
prepared: parsed and planned once on its connection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from messaging import actions, message_insert
from messaging.models import Conversation, Message
from tests.helpers import make_agent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LATE = "Are you still there?"


def waiting_conversation(widget) -> Conversation:
    """A new conversation of an anonymous visitor, waiting in the widget's default queue."""
    return actions.do_start_conversation(
        widget, deployment=None, identity=None, context={}, dropped=[]
    ).conversation


def test_a_message_posted_while_its_conversation_closes_waits_and_is_refused(chat):
    widget, _ = chat
    conversation = waiting_conversation(widget)
    closer = RowHolder(
        conversation.pk,
        then=lambda: actions.do_close_conversation(conversation, reason=actions.ABANDONED),
    )
    closer.start()
    assert closer.locked.wait(timeout=10)
    refusals: list[str] = []
    poster = attempt(
        lambda: actions.do_post_message(conversation.pk, sender=Message.Sender.VISITOR, text=LATE),
        refusals,
        done=None,
    )
    poster.join(timeout=0.5)
    still_waiting = poster.is_alive()
    closer.release.set()
    closer.join(timeout=10)
    poster.join(timeout=10)

    assert still_waiting
    assert refusals == ["bad_frame"]
    assert Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.CLOSED
    assert not Message.objects.filter(conversation=conversation, text=LATE).exists()


def test_a_message_statement_run_again_is_prepared_on_postgresql(chat):
    widget, _ = chat
    conversation = waiting_conversation(widget)
    before = prepared_message_runs()
    for number in range(6):
        actions.do_post_message(conversation.pk, sender=Message.Sender.VISITOR, text=f"{number}")

    assert list(conversation.messages.values_list("text", flat=True)[1:]) == list("012345")
    if connection.vendor == "postgresql":
        assert prepared_message_runs() > before


def prepared_message_runs() -> int:
    """How many times this connection ran a prepared insert of a message (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ['%INSERT INTO "messaging_message"%'],
        )
        return cursor.fetchone()[0]


def test_a_message_stored_in_one_statement_fills_every_column_of_a_message():
    assert set(message_insert.COLUMNS) == {
        field.column for field in Message._meta.concrete_fields if not field.primary_key
    }


def test_a_conversation_and_its_first_message_are_stored_as_the_orm_would(chat):
    widget, _ = chat
    conversation = Conversation(
        channel_instance=widget, queue=widget.workstream.default_queue, context={"plan": "gold"}
    )

    with CaptureQueriesContext(connection) as statements:
        first = message_insert.insert_with_conversation(
            conversation, sender=Message.Sender.SYSTEM, text="Conversation started."
        )

    if connection.vendor == "postgresql":  # elsewhere two inserts in a transaction
        assert len(statements) == 1
    stored = Conversation.objects.get(pk=conversation.pk)
    for field in Conversation._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(conversation, field.attname), field.name
    assert stored.created_at is not None
    assert list(stored.messages.values_list("pk", "sender", "text", "sent_at")) == [
        (first.pk, Message.Sender.SYSTEM, "Conversation started.", first.sent_at)
    ]


def test_a_conversation_whose_first_message_cannot_be_stored_is_not_stored_either(chat):
    widget, _ = chat
    conversation = Conversation(channel_instance=widget, queue=widget.workstream.default_queue)

    with pytest.raises(IntegrityError):
        message_insert.insert_with_conversation(
            conversation, sender=Message.Sender.SYSTEM, text=None
        )

    assert not Conversation.objects.filter(pk=conversation.pk).exists()


def test_of_two_agents_taking_one_conversation_at_once_one_gets_it(chat):
    widget, _ = chat
    conversation = waiting_conversation(widget)
    agents = [make_agent(name) for name in ("dora", "eli")]
    no_longer_staff = make_agent("gus")
    conversation.queue.agents.add(*agents, no_longer_staff)
    no_longer_staff.is_staff = False
    no_longer_staff.save()
    for refused_agent in (make_agent("fay"), no_longer_staff):  # off the queue; not an agent
        with pytest.raises(actions.ActionRefused) as refused:
            actions.do_accept_conversation(conversation.pk, acting_user=refused_agent)
        assert refused.value.code == "not_found"
    assert Conversation.objects.get(pk=conversation.pk).status == Conversation.Status.WAITING
    holder = RowHolder(conversation.pk)
    holder.start()
    assert holder.locked.wait(timeout=10)
    outcomes: list[str] = []
    takers = [
        attempt(
            lambda agent=agent: actions.do_accept_conversation(conversation.pk, acting_user=agent),
            outcomes,
            done="taken",
        )
        for agent in agents
    ]
    waiting_on_the_row = takers_waiting(len(takers))
    holder.release.set()
    for thread in (holder, *takers):
        thread.join(timeout=10)

    assert waiting_on_the_row
    assert not any(thread.is_alive() for thread in (holder, *takers))
    assert sorted(outcomes) == ["already_taken", "taken"]
    taken = Conversation.objects.get(pk=conversation.pk)
    assert (taken.status, taken.agent in agents) == (Conversation.Status.ACTIVE, True)
    assert Message.objects.filter(conversation=conversation, text__contains="joined").count() == 1


class RowHolder(threading.Thread):
    """A thread that locks the conversation's row in a transaction, says so (`locked`), waits
    for `release`, then does `then` in the same transaction and commits."""

    def __init__(self, conversation_pk, then: Callable[[], object] = lambda: None) -> None:
        super().__init__()
        self.conversation_pk, self.then = conversation_pk, then
        self.locked, self.release = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                actions.lock(self.conversation_pk)
                self.locked.set()
                self.release.wait(timeout=10)
                self.then()
        finally:
            connection.close()


def attempt(action: Callable[[], object], outcomes: list, *, done: str | None) -> threading.Thread:
    """A started thread doing `action`: a refusal adds its code to `outcomes`, a success adds
    `done` (unless None)."""

    def run() -> None:
        try:
            action()
            if done is not None:
                outcomes.append(done)
        except actions.ActionRefused as refused:
            outcomes.append(refused.code)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def takers_waiting(count: int) -> bool:
    """Whether `count` other sessions are seen waiting on a row lock, within ten seconds. Only
    PostgreSQL shows them; SQLite lets one writer in at a time, and says nothing of the others."""
    if connection.vendor != "postgresql":
        return True
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] == count:
                return True
        time.sleep(0.05)
    return False
