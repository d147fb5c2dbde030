"""A message stored in one statement: `INSERT … SELECT` from its conversation's row, which
checks that the conversation is open (and, for an agent's message, the agent's) under the row's
lock; a new conversation stored with its first message, and a waiting conversation taken by an
agent with its "joined" message, each in one statement on PostgreSQL.

A chat's messages are most of what the platform writes. Through the ORM each one is four round
trips on the process's one database thread (begin, the row locked and read, the insert,
commit); as one statement it is one, atomic on its own. The row lock (`FOR UPDATE`, where the
database has it; SQLite lets one writer in at a time) keeps what the ORM's lock kept: a
conversation's message ids grow in the order its messages commit, and no message gets into a
conversation after it closed.
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from messaging.models import Conversation, Message, agent_users
from workstreams.models import Queue

# Every column of a message but its id, in the order the SELECT below gives their values.
COLUMNS = (
    "conversation_id",
    "sender",
    "author_id",
    "text",
    "sent_at",
    "delivery",
    "delivery_attempts",
    "next_delivery_at",
)
INSERT = """
INSERT INTO {message} ({columns})
SELECT conversation.id, %s, %s, %s, %s, {delivery}, 0, {next_delivery_at}
FROM {conversation} AS conversation
WHERE conversation.id = %s AND conversation.status <> %s {held}
{locked}
RETURNING id, delivery
"""
# A new conversation's insert in a WITH clause of its first message's (PostgreSQL only).
INSERT_WITH_CONVERSATION = """
WITH conversation AS (
    INSERT INTO {conversation} ({conversation_columns}) VALUES ({conversation_values})
    RETURNING id
)
INSERT INTO {message} ({columns})
SELECT conversation.id, %s, NULL, %s, %s, NULL, 0, NULL
FROM conversation
RETURNING id
"""
# A waiting conversation's update to its agent and the insert of the message that says so, in
# one statement (PostgreSQL only): no row, no message. It gives the message's id and the queue.
INSERT_ON_TAKE = """
WITH conversation AS (
    UPDATE {conversation} SET status = %s, agent_id = %s, modified_at = %s
    WHERE id = %s AND status = %s AND queue_id IN ({agent_queues})
    RETURNING id, queue_id
), message AS (
    INSERT INTO {message} ({columns})
    SELECT conversation.id, %s, NULL, %s, %s, NULL, 0, NULL
    FROM conversation
    RETURNING id
)
SELECT message.id, conversation.queue_id FROM message, conversation
"""
# The value of a field for an Apple customer's conversation only.
FOR_APPLE_CUSTOMER = "CASE WHEN COALESCE(conversation.customer_id, '') <> '' THEN %s END"


def insert_if_open(
    conversation_id,
    *,
    sender: str,
    text: str,
    author_id: int | None,
    apple_delivery: dict | None = None,
) -> Message | None:
    """Store the message in its conversation, unless the conversation is closed or, for an
    agent's message, not held by its author (actions.check_held_by says so in Python, for the
    refusal). In an Apple customer's conversation it takes the `apple_delivery` fields
    (`delivery`, `next_delivery_at`) when given. Returns the message, or None when not stored.

    Its `sent_at` is the time the statement leaves: a message that waited for the row lock
    behind another may read a moment earlier than it (transcripts are in id order)."""
    by_agent = sender == Message.Sender.AGENT
    sql = statement(
        INSERT,
        delivery=FOR_APPLE_CUSTOMER if apple_delivery else "NULL",
        next_delivery_at=FOR_APPLE_CUSTOMER if apple_delivery else "NULL",
        held="AND conversation.agent_id = %s" if by_agent else "",
        locked="FOR UPDATE" if connection.features.has_select_for_update else "",
    )
    now = timezone.now()
    params = [sender, author_id, text, as_stored("sent_at", now)]
    if apple_delivery:
        params += [
            apple_delivery["delivery"],
            as_stored("next_delivery_at", apple_delivery["next_delivery_at"]),
        ]
    params += [
        Conversation._meta.pk.get_db_prep_value(conversation_id, connection),
        Conversation.Status.CLOSED,
    ]
    if by_agent:
        params.append(author_id)
    row = first_row(sql, params)
    if row is None:
        return None
    message_id, delivery = row
    message = Message(
        pk=message_id,
        conversation_id=conversation_id,
        sender=sender,
        author_id=author_id,
        text=text,
        sent_at=now,
        **(apple_delivery if delivery else {}),
    )
    return stored(message)


def insert_with_conversation(conversation: Conversation, *, sender: str, text: str) -> Message:
    """Store a new conversation (not saved yet) and its first message, which has no author and
    is not delivered by the platform. On PostgreSQL that is one statement, so one round trip
    and atomic on its own; elsewhere two inserts in a transaction. Returns the message.

    Like insert_if_open, it sends no model signals (nothing listens to a conversation's or a
    message's save), and it stores each field's value as Python gives it (no field's default
    is the database's)."""
    if connection.vendor != "postgresql":  # no INSERT inside WITH
        with transaction.atomic():
            conversation.save(force_insert=True)
            return Message.objects.create(conversation=conversation, sender=sender, text=text)
    fields = Conversation._meta.concrete_fields
    values = [
        field.get_db_prep_save(field.pre_save(conversation, True), connection) for field in fields
    ]
    sql = statement(
        INSERT_WITH_CONVERSATION,
        conversation_columns=", ".join(connection.ops.quote_name(field.column) for field in fields),
        conversation_values=", ".join(["%s"] * len(fields)),
    )
    now = timezone.now()
    (message_id,) = first_row(sql, [*values, sender, text, as_stored("sent_at", now)])
    stored(conversation)
    return stored(
        Message(pk=message_id, conversation=conversation, sender=sender, text=text, sent_at=now)
    )


def agent_queue_ids(agent_pk: int) -> QuerySet:
    """The ids of the queues the user is on, while the user is still an agent: active, staff
    and in the Agents group (queue memberships outlive those). A subquery."""
    return Queue.agents.through.objects.filter(user__in=agent_users().filter(pk=agent_pk)).values(
        "queue_id"
    )


@lru_cache(maxsize=1024)
def agent_queue_ids_sql(agent_pk: int) -> tuple[str, tuple]:
    """agent_queue_ids' SQL and parameters, compiled once per agent for the process's
    database: building and compiling the query costs more than running it."""
    return agent_queue_ids(agent_pk).query.get_compiler(connection=connection).as_sql()


def take_with_message(
    conversation_id, *, agent, sender: str, text: str
) -> tuple[Message, int] | None:
    """Give the conversation to `agent` if it is waiting in one of the agent's queues
    (agent_queue_ids), and store the message saying so, which has no author and is not
    delivered by the platform. On PostgreSQL that is one statement (a concurrent take of the
    same conversation waits for its row, then finds it taken); elsewhere an update and an
    insert in a transaction. Returns the message and the conversation's queue id, or None when
    nothing was taken."""
    now = timezone.now()
    if connection.vendor != "postgresql":  # no UPDATE inside WITH
        taken = Conversation.objects.filter(
            pk=conversation_id,
            status=Conversation.Status.WAITING,
            queue_id__in=agent_queue_ids(agent.pk),
        )
        with transaction.atomic():
            if not taken.update(status=Conversation.Status.ACTIVE, agent=agent, modified_at=now):
                return None
            message = Message.objects.create(
                conversation_id=conversation_id, sender=sender, text=text, sent_at=now
            )
            queue_id = Conversation.objects.values_list("queue_id", flat=True).get(
                pk=conversation_id
            )
            return message, queue_id
    queues_sql, queues_params = agent_queue_ids_sql(agent.pk)
    sql = statement(INSERT_ON_TAKE, agent_queues=queues_sql)
    params = [
        Conversation.Status.ACTIVE,
        agent.pk,
        Conversation._meta.get_field("modified_at").get_db_prep_value(now, connection),
        Conversation._meta.pk.get_db_prep_value(conversation_id, connection),
        Conversation.Status.WAITING,
        *queues_params,
        sender,
        text,
        as_stored("sent_at", now),
    ]
    row = first_row(sql, params)
    if row is None:
        return None
    message_id, queue_id = row
    message = Message(
        pk=message_id, conversation_id=conversation_id, sender=sender, text=text, sent_at=now
    )
    return stored(message), queue_id


def first_row(sql: str, params: list) -> tuple | None:
    """The statement's first row back, or None when it returned none."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def statement(template: str, **parts: str) -> str:
    """One of the statements above, with the tables' names, the message's columns and `parts`
    filled in."""
    return template.format(
        conversation=connection.ops.quote_name(Conversation._meta.db_table),
        message=connection.ops.quote_name(Message._meta.db_table),
        columns=", ".join(COLUMNS),
        **parts,
    )


def stored(instance):
    """The model instance, marked as if read from the database: it is stored."""
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def as_stored(field_name: str, value):
    """A value of a Message field as the database takes it."""
    return Message._meta.get_field(field_name).get_db_prep_value(value, connection)
