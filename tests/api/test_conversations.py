"""API clients with conversations:read read conversations, with their messages on the detail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from messaging.models import Contact, Conversation, Message
from tests.api_clients import results

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


@pytest.fixture
def reader(api_client_for):
    return api_client_for("conversations:read")


@pytest.fixture
def make_conversation(chat_widget, workstream):
    def make(**fields) -> Conversation:
        return Conversation.objects.create(
            channel_instance=chat_widget, queue=workstream.default_queue, **fields
        )

    return make


def test_a_conversation_is_read_with_its_messages_in_order(reader, make_conversation):
    contact = Contact.objects.create(full_name="Ada")
    conversation = make_conversation(
        status=Conversation.Status.ACTIVE,
        authenticated=True,
        subject=str(contact.pk),
        authentication={"setting": 1, "kid": "k1", "iss": "https://portal.example.com"},
        contact=contact,
        context={"msdyn_cartvalue": 1000},
        priority=5,
    )
    first = Message.objects.create(conversation=conversation, sender="visitor", text="Hello")
    second = Message.objects.create(conversation=conversation, sender="agent", text="Hi <b>")

    body = reader.get(f"/api/v1/conversations/{conversation.pk}/").json()
    assert body == {
        "id": str(conversation.pk),
        "channel_instance": conversation.channel_instance_id,
        "channel": "chat_widget",
        "customer_id": None,
        "status": "active",
        "authenticated": True,
        "authenticated_until": None,
        "subject": str(contact.pk),
        "authentication": {"setting": 1, "kid": "k1", "iss": "https://portal.example.com"},
        "contact": str(contact.pk),
        "context": {"msdyn_cartvalue": 1000},
        "queue": conversation.queue_id,
        "priority": 5,
        "created_at": body["created_at"],
        "modified_at": body["modified_at"],
        "messages": [
            {
                "id": first.pk,
                "sender": "visitor",
                "text": "Hello",
                "sent_at": body["messages"][0]["sent_at"],
                "delivery": None,
            },
            {
                "id": second.pk,
                "sender": "agent",
                "text": "Hi <b>",
                "sent_at": body["messages"][1]["sent_at"],
                "delivery": None,
            },
        ],
    }


def test_the_list_leaves_the_messages_to_the_detail(reader, make_conversation):
    conversation = make_conversation()
    Message.objects.create(conversation=conversation, sender="visitor", text="Hello")
    [listed] = results(reader.get("/api/v1/conversations/"))
    assert listed["id"] == str(conversation.pk)
    assert "messages" not in listed
    assert listed["authenticated"] is False
    assert listed["subject"] is None
    assert listed["authentication"] is None


def test_authenticated_says_whether_the_conversation_is_authenticated_now(
    reader, make_conversation
):
    now = timezone.now()
    expired = make_conversation(authenticated=True, authenticated_until=now - dt.timedelta(1))
    current = make_conversation(authenticated=True, authenticated_until=now + dt.timedelta(1))
    implicit = make_conversation(authenticated=True, authenticated_until=None)
    anonymous = make_conversation()

    def read(conversation):
        return reader.get(f"/api/v1/conversations/{conversation.pk}/").json()

    assert read(expired)["authenticated"] is False
    assert read(expired)["authenticated_until"] is not None
    assert read(current)["authenticated"] is True
    assert read(implicit)["authenticated"] is True
    assert read(anonymous)["authenticated"] is False

    def listed(value: str) -> set[str]:
        found = results(reader.get("/api/v1/conversations/", {"authenticated": value}))
        return {item["id"] for item in found}

    assert listed("true") == {str(current.pk), str(implicit.pk)}
    assert listed("false") == {str(expired.pk), str(anonymous.pk)}


def test_the_authenticated_now_query_and_property_agree(make_conversation):
    now = timezone.now()
    conversations = [
        make_conversation(authenticated=True, authenticated_until=now - dt.timedelta(1)),
        make_conversation(authenticated=True, authenticated_until=now + dt.timedelta(1)),
        make_conversation(authenticated=True, authenticated_until=None),
        make_conversation(authenticated=False, authenticated_until=now + dt.timedelta(1)),
        make_conversation(),
    ]
    authenticated = {c.pk for c in conversations if c.authenticated_now}

    assert set(Conversation.objects.authenticated_now().values_list("pk", flat=True)) == (
        authenticated
    )
    assert set(Conversation.objects.not_authenticated_now().values_list("pk", flat=True)) == (
        {c.pk for c in conversations} - authenticated
    )


def test_conversations_are_filtered_by_status_and_newest_come_first(reader, make_conversation):
    older = make_conversation(status=Conversation.Status.CLOSED)
    newer = make_conversation(status=Conversation.Status.WAITING)
    assert [item["id"] for item in results(reader.get("/api/v1/conversations/"))] == [
        str(newer.pk),
        str(older.pk),
    ]
    closed = results(reader.get("/api/v1/conversations/", {"status": "closed"}))
    assert [item["id"] for item in closed] == [str(older.pk)]
