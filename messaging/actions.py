"""Every write to conversations goes through one function per action.

Each runs in one transaction and tells the channel layer only after it commits, so nobody is
told of something that was rolled back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from contactcenter.lib.errors import Refused
from messaging import resume_tokens
from messaging.contacts import contact_for_subject
from messaging.models import (
    ChannelInstance,
    Contact,
    Conversation,
    Deployment,
    Message,
    agent_users,
)
from messaging.summaries import conversation_summary, iso, message_frame
from workstreams.routing import NoRoute, route


@dataclass(frozen=True)
class Identity:
    """A verified customer: what the token said and how it was checked."""

    subject: str
    setting_id: int
    setting_name: str
    kid: str | None
    iss: str | None
    claims: dict
    # The setting links a subject that is an active contact's id to that contact.
    link_contacts: bool
    # When the proof lapses (a code-flow session token's exp); None: it does not.
    authenticated_until: datetime | None = None

    def contact(self) -> Contact | None:
        return contact_for_subject(self.subject) if self.link_contacts else None


class ActionRefused(Refused):
    """An action that cannot be done in the conversation's present state."""


def queue_group(queue_id: int) -> str:
    return f"queue.{queue_id}"


def conversation_group(conversation_id) -> str:
    return f"conversation.{conversation_id}"


def hash_resume_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resume_token_matches(conversation: Conversation, token: str) -> bool:
    """The first socket's token, or one of a device that continued the conversation."""
    return bool(conversation.resume_token_hash) and (
        hmac.compare_digest(conversation.resume_token_hash, hash_resume_token(token))
        or resume_tokens.matches(conversation, token)
    )


def tell(group: str, event: dict) -> None:
    """Send an event to a group once the current transaction commits."""
    layer = get_channel_layer()
    transaction.on_commit(lambda: async_to_sync(layer.group_send)(group, event))


def message_event(conversation_id, message: Message) -> dict:
    return {
        "type": "conversation.message",
        "conversation": str(conversation_id),
        "message": message_frame(message),
    }


def authentication_of(identity: Identity | None, dropped: list[str]) -> dict | None:
    """The conversation's `authentication` record: how the customer was verified."""
    if identity is None:
        return None
    return {
        "setting": identity.setting_id,
        "setting_name": identity.setting_name,
        "kid": identity.kid,
        "iss": identity.iss,
        "claims": identity.claims,
        "context_dropped": dropped,
    }


CLOSED = Conversation.Status.CLOSED
WAITING = Conversation.Status.WAITING
# Why a conversation closed, as the visitor's `closed` frame says.
BY_AGENT = "agent"
ABANDONED = "abandoned"
LOGOUT = "logout"
# Abandoned conversations closed per transaction by a sweep.
SWEEP_BATCH = 100


def lock(conversation_id) -> Conversation:
    """The conversation's row, locked until the transaction ends (writers queue behind it)."""
    return Conversation.objects.select_for_update().get(pk=conversation_id)


def load(conversation_id) -> Conversation:
    return Conversation.objects.with_summary_relations().get(pk=conversation_id)


def do_start_conversation(
    channel_instance: ChannelInstance,
    *,
    deployment: Deployment | None,
    identity: Identity | None,
    context: dict,
    dropped: list[str],
) -> tuple[Conversation, str]:
    """Route and store a new conversation with its first system message.

    Returns the conversation and its resume token (kept only as a hash). Raises ActionRefused
    with `workstream_unavailable` when no rule routes it and there is no default queue.
    """
    resume_token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Routed in the same transaction, so the rules and queue read are the ones stored.
        try:
            chosen = route(
                channel_instance.workstream, authenticated=identity is not None, context=context
            )
        except NoRoute:
            raise ActionRefused(
                "workstream_unavailable", "No queue can take this conversation right now."
            ) from None
        conversation = Conversation.objects.create(
            channel_instance=channel_instance,
            deployment=deployment,
            authenticated=identity is not None,
            authenticated_until=identity.authenticated_until if identity else None,
            subject=identity.subject if identity else None,
            authentication=authentication_of(identity, dropped),
            contact=identity.contact() if identity else None,
            context=context,
            queue_id=chosen.queue_id,
            priority=chosen.priority,
            resume_token_hash=hash_resume_token(resume_token),
            visitor_seen_at=timezone.now()
            if channel_instance.kind == ChannelInstance.Kind.CHAT_WIDGET
            else None,
        )
        who = "a verified customer" if identity else "an anonymous visitor"
        Message.objects.create(
            conversation=conversation,
            sender=Message.Sender.SYSTEM,
            text=f"Conversation started by {who}.",
        )
        conversation = load(conversation.pk)
        tell(
            queue_group(conversation.queue_id),
            {"type": "queue.waiting", "conversation": conversation_summary(conversation)},
        )
    return conversation, resume_token


def do_post_message(
    conversation: Conversation, *, sender: str, text: str, acting_user=None
) -> Message:
    """Store a message (an agent's names the agent, `acting_user`), then tell everyone in the
    conversation.

    Raises ActionRefused (`bad_frame`) once the conversation is closed.
    """
    with transaction.atomic():
        if lock(conversation.pk).status == CLOSED:
            raise ActionRefused("bad_frame", "This conversation is closed; start a new chat.")
        message = Message.objects.create(
            conversation=conversation, sender=sender, text=text, author=acting_user
        )
        tell(
            conversation_group(conversation.pk),
            message_event(conversation.pk, message),
        )
    return message


def do_accept_conversation(conversation: Conversation, *, acting_user) -> Conversation:
    """Give a waiting conversation of one of the agent's queues to the agent (`acting_user`),
    while the agent is still one: active, staff and in the Agents group (queue memberships
    outlive those).

    Raises ActionRefused (`not_found`, `already_taken`).
    """
    agent = acting_user
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))
            .filter(
                pk=conversation.pk,
                queue__agents__in=agent_users().filter(pk=agent.pk),
            )
            .first()
        )
        if conversation is None:
            raise ActionRefused("not_found", "No such conversation in your queues.")
        if conversation.status != Conversation.Status.WAITING:
            raise ActionRefused("already_taken", "Another agent has taken this conversation.")
        conversation.status = Conversation.Status.ACTIVE
        conversation.agent = agent
        conversation.save(update_fields=["status", "agent", "modified_at"])
        joined = Message.objects.create(
            conversation=conversation,
            sender=Message.Sender.SYSTEM,
            text=f"{agent.get_full_name() or agent.get_username()} joined the conversation.",
        )
        tell(
            queue_group(conversation.queue_id),
            {"type": "queue.taken", "conversation": str(conversation.pk)},
        )
        tell(conversation_group(conversation.pk), message_event(conversation.pk, joined))
    return load(conversation.pk)


def do_close_conversation(
    conversation: Conversation, *, acting_user=None, reason: str = BY_AGENT
) -> None:
    """Close a conversation for good: its resume token stops working, everyone in it is told
    why (`agent`: the agent `acting_user` closed it; `abandoned`: the visitor left; `logout`:
    the customer signed out), and a waiting one leaves its queue. Closing a closed
    conversation changes nothing."""
    with transaction.atomic():
        current = lock(conversation.pk)
        if current.status == CLOSED:
            return
        if reason == ABANDONED:
            text = "The customer left; the conversation is closed."
        elif reason == LOGOUT:
            text = "The customer signed out; the conversation is closed."
        else:
            name = acting_user.get_full_name() or acting_user.get_username()
            text = f"{name} closed the conversation."
        message = Message.objects.create(
            conversation=conversation, sender=Message.Sender.SYSTEM, text=text
        )
        tell(conversation_group(conversation.pk), message_event(conversation.pk, message))
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.CLOSED,
            closed_at=timezone.now(),
            resume_token_hash="",
            modified_at=timezone.now(),
        )
        if current.status == WAITING:
            # Agents drop a conversation from the queue they watch when it is taken.
            tell(
                queue_group(current.queue_id),
                {"type": "queue.taken", "conversation": str(conversation.pk)},
            )
        tell(
            conversation_group(conversation.pk),
            {"type": "conversation.closed", "conversation": str(conversation.pk), "reason": reason},
        )


def do_close_abandoned_conversations(*, now: datetime) -> int:
    """Close the waiting chats whose visitor has been gone ABANDONED_AFTER at `now`, a batch
    per transaction, and return how many. Processes sweeping at once each claim rows no other
    has locked (SKIP LOCKED), so a conversation is closed once."""
    closed = 0
    while True:
        with transaction.atomic():
            batch = list(
                Conversation.objects.abandoned(now)
                .select_for_update(skip_locked=True)
                .order_by("visitor_seen_at")[:SWEEP_BATCH]
            )
            for conversation in batch:
                do_close_conversation(conversation, reason=ABANDONED)
        closed += len(batch)
        if len(batch) < SWEEP_BATCH:
            return closed


def do_authenticate_conversation(
    conversation: Conversation, *, identity: Identity, context: dict, dropped: list[str]
) -> Conversation:
    """Sign an ongoing conversation in (session upgrade). Never downgrades; a conversation
    already signed in keeps its subject. Raises ActionRefused (`subject_mismatch`)."""
    with transaction.atomic():
        conversation = lock(conversation.pk)
        if conversation.subject and conversation.subject != identity.subject:
            raise ActionRefused(
                "subject_mismatch", "The token is for another customer than this conversation."
            )
        conversation.authenticated = True
        conversation.authenticated_until = identity.authenticated_until
        conversation.subject = identity.subject
        conversation.contact = identity.contact()
        conversation.authentication = authentication_of(identity, dropped)
        conversation.context = {**conversation.context, **context}
        conversation.save()
        conversation = load(conversation.pk)
        tell(
            conversation_group(conversation.pk),
            {
                "type": "conversation.authentication",
                "conversation": str(conversation.pk),
                "authenticated": True,
                "authenticated_until": iso(conversation.authenticated_until),
                "summary": conversation_summary(conversation),
            },
        )
    return conversation
