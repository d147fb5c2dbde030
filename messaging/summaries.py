"""What agents and widgets are told about conversations and messages, as JSON-ready dicts."""

from __future__ import annotations

from messaging.models import Conversation, Message, RichMessage


def iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def message_frame(message: Message) -> dict:
    return {
        "type": "message",
        "id": str(message.pk),
        "sender": message.sender,
        "text": message.text,
        "sent_at": iso(message.sent_at),
        "delivery": message.delivery,
    }


def sign_in_messages(conversation: Conversation) -> list[dict]:
    """The authentication rich messages an agent may send an open Apple conversation."""
    setting = conversation.channel_instance.authentication_setting
    if (
        not conversation.customer_id
        or conversation.status == Conversation.Status.CLOSED
        or setting is None
        or not setting.is_apple
    ):
        return []
    return [
        {"id": message.pk, "name": message.name}
        for message in setting.rich_messages.all()
        if message.type == RichMessage.Type.AUTHENTICATION
    ]


def conversation_summary(conversation: Conversation) -> dict:
    """The agent's view of a conversation. Expects channel_instance, queue and contact loaded,
    and the workstream's context variables prefetched when summarizing many."""
    shown = {
        variable.name
        for variable in conversation.channel_instance.workstream.context_variables.all()
        if variable.display_to_agent
    }
    authentication = conversation.authentication or {}
    contact = conversation.contact
    return {
        "id": str(conversation.pk),
        "status": conversation.status,
        "channel": conversation.channel_instance.name,
        "channel_kind": conversation.channel_instance.kind,
        "customer_id": conversation.customer_id,
        "sign_in_messages": sign_in_messages(conversation),
        "queue": {"id": conversation.queue_id, "name": conversation.queue.name},
        "priority": conversation.priority,
        "created_at": iso(conversation.created_at),
        "authenticated": conversation.authenticated_now,
        "authenticated_until": iso(conversation.authenticated_until),
        "subject": conversation.subject,
        "contact": None
        if contact is None
        else {"id": str(contact.pk), "full_name": contact.full_name, "email": contact.email},
        "context": [
            {"name": name, "value": value}
            for name, value in conversation.context.items()
            if name in shown
        ],
        "verification": None
        if not authentication
        else {
            "setting": authentication.get("setting_name"),
            "kid": authentication.get("kid"),
            "iss": authentication.get("iss"),
        },
        "context_dropped": authentication.get("context_dropped", []),
    }
