"""Every write to conversations goes through one function per action.

Each runs in one transaction and tells the channel layer only after it commits, so nobody is
told of something that was rolled back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from contactcenter.lib.errors import Refused
from messaging import decisions, message_insert, resume_tokens, start_cache, sweeps
from messaging.contacts import contact_for_subject
from messaging.models import (
    AppleAuthenticationRequest,
    ChannelInstance,
    Contact,
    Conversation,
    Deployment,
    Message,
)
from messaging.outbox import outbox
from messaging.summaries import conversation_summary, message_frame
from workstreams.routing import NoRoute, choose_route, route


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
    # When the proof lapses (a code-flow session token's exp, an Apple sign-in's access-token
    # expiry); None: it does not.
    authenticated_until: datetime | None = None
    # Apple sign-ins name their authentication type in the conversation's record.
    authentication_type: str | None = None

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
    """Send an event to a group once the current transaction commits (messaging.outbox)."""
    transaction.on_commit(lambda: outbox.put(group, event))


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
    record = {
        "setting": identity.setting_id,
        "setting_name": identity.setting_name,
        "kid": identity.kid,
        "iss": identity.iss,
        "claims": identity.claims,
        "context_dropped": dropped,
    }
    if identity.authentication_type:
        record.update(type=identity.authentication_type, sub=identity.subject)
    return record


CLOSED = Conversation.Status.CLOSED
NOT_IN_YOUR_QUEUES = "No such conversation in your queues."
ACCEPT_FIRST = "Accept the conversation first."
WAITING = Conversation.Status.WAITING
# Why a conversation closed, as the visitor's `closed` frame says.
BY_AGENT = "agent"
ABANDONED = "abandoned"
LOGOUT = "logout"
BY_CUSTOMER = "customer"
CLOSED_TEXT = {
    ABANDONED: "The customer left; the conversation is closed.",
    LOGOUT: "The customer signed out; the conversation is closed.",
    BY_CUSTOMER: "The customer closed the conversation.",
}
# Lapsed sign-ins announced, or abandoned conversations closed, per transaction of a sweep.
SWEEP_BATCH = 100


def lock(conversation_id) -> Conversation:
    """The conversation's row, locked until the transaction ends (writers queue behind it)."""
    return Conversation.objects.select_for_update().get(pk=conversation_id)


def check_held_by(conversation_id, agent) -> Conversation:
    """The conversation, when the agent has accepted it. Raises ActionRefused (`not_found`)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if (
        conversation is None
        or getattr(agent, "pk", None) is None
        or conversation.agent_id != agent.pk
    ):
        raise ActionRefused("not_found", ACCEPT_FIRST)
    return conversation


def load(conversation_id) -> Conversation:
    """The conversation as its summary shows it: its contact read with it, its channel
    instance and queue as this process keeps them (messaging.start_cache)."""
    return start_cache.with_kept_relations(
        Conversation.objects.select_related("contact").get(pk=conversation_id)
    )


@dataclass(frozen=True)
class Started:
    """A conversation a start stored or continued, with the resume token it hands out (kept only
    as a hash). A new conversation comes with its transcript as stored, as frames; a continued
    one with none (`transcript` None: read it once its events are heard)."""

    conversation: Conversation
    resume_token: str
    transcript: list[dict] | None


def do_start_conversation(
    channel_instance: ChannelInstance,
    *,
    deployment: Deployment | None,
    identity: Identity | None,
    context: dict,
    dropped: list[str],
    customer_id: str | None = None,
    capabilities: str = "",
    conversation_id: uuid.UUID | None = None,
    routing: start_cache.Routing | None = None,
) -> Started:
    """Route and store a new conversation with its first system message; an Apple one names
    its customer (`customer_id`) and what the customer's device can do (`capabilities`). It
    takes `conversation_id` when given: a socket listens to a conversation before it exists.
    It is routed with `routing` when the start read it with its widget. Returns a Started.

    Raises ActionRefused with `workstream_unavailable` when no rule routes it and there is no
    default queue.
    """
    resume_token = secrets.token_urlsafe(32)
    # Rules, variables and queues as this process keeps them (messaging.start_cache): a change
    # to any of them is seen by the next start in every process.
    routing = routing or start_cache.routing(channel_instance.workstream_id)
    try:
        chosen = choose_route(
            routing.rules,
            default_queue_id=routing.default_queue_id,
            variable_types=routing.variable_types,
            authenticated=identity is not None,
            context=context,
        )
    except NoRoute:
        raise ActionRefused(
            "workstream_unavailable", "No queue can take this conversation right now."
        ) from None
    if customer_id:
        who = "a customer on Apple Messages for Business"
    else:
        who = "a verified customer" if identity else "an anonymous visitor"
    contact = identity.contact() if identity else None
    conversation = Conversation(
        **({"id": conversation_id} if conversation_id else {}),
        channel_instance=channel_instance,
        deployment=deployment,
        authenticated=identity is not None,
        authenticated_until=identity.authenticated_until if identity else None,
        subject=identity.subject if identity else None,
        authentication=authentication_of(identity, dropped),
        contact=contact,
        context=context,
        queue=routing.queues[chosen.queue_id],
        priority=chosen.priority,
        resume_token_hash=hash_resume_token(resume_token),
        visitor_seen_at=timezone.now()
        if channel_instance.kind == ChannelInstance.Kind.CHAT_WIDGET
        else None,
        customer_id=customer_id,
        capabilities=capabilities,
    )
    first = message_insert.insert_with_conversation(
        conversation, sender=Message.Sender.SYSTEM, text=f"Conversation started by {who}."
    )
    tell(
        queue_group(conversation.queue_id),
        {"type": "queue.waiting", "conversation": conversation_summary(conversation)},
    )
    return Started(conversation, resume_token, [message_frame(first)])


def do_post_message(conversation_id, *, sender: str, text: str, acting_user=None) -> Message:
    """Store a message, then tell everyone in the conversation. An agent's message names the
    agent (`acting_user`) and goes only to a conversation the agent has accepted; one to an
    Apple customer waits for delivery (`pending`), which the sweeps start at once.

    Raises ActionRefused: `not_found` for an agent's message to a conversation not theirs,
    `bad_frame` once the conversation is closed.
    """
    by_agent = sender == Message.Sender.AGENT
    message = message_insert.insert_if_open(
        conversation_id,
        sender=sender,
        text=text,
        author_id=getattr(acting_user, "pk", None) if by_agent else None,
        apple_delivery=pending_delivery() if by_agent else None,
    )
    if message is None:  # not stored: say why
        if by_agent:
            check_held_by(conversation_id, acting_user)
        raise ActionRefused("bad_frame", "This conversation is closed; start a new chat.")
    tell(conversation_group(conversation_id), message_event(conversation_id, message))
    if message.delivery == Message.Delivery.PENDING:
        transaction.on_commit(sweeps.nudge)
    return message


def pending_delivery() -> dict:
    """A message's fields while it waits for its first delivery attempt."""
    return {"delivery": Message.Delivery.PENDING, "next_delivery_at": timezone.now()}


def do_relay_typing(conversation: Conversation, *, typing: bool) -> None:
    """Tell the agents that the customer started or stopped typing; nothing is stored."""
    tell(
        conversation_group(conversation.pk),
        {"type": "conversation.typing", "conversation": str(conversation.pk), "typing": typing},
    )


def do_note_capabilities(conversation: Conversation, capabilities: str) -> None:
    """Keep the capability list the customer's device sent last."""
    if capabilities != conversation.capabilities:
        Conversation.objects.filter(pk=conversation.pk).update(capabilities=capabilities)
        conversation.capabilities = capabilities


def do_record_delivery(
    message: Message, *, delivery: str, attempts: int, next_at: datetime | None
) -> None:
    """Store where a message's delivery stands, and tell the conversation when that changed."""
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            delivery=delivery, delivery_attempts=attempts, next_delivery_at=next_at
        )
        if delivery != message.delivery:
            tell(
                conversation_group(message.conversation_id),
                {
                    "type": "conversation.delivery",
                    "conversation": str(message.conversation_id),
                    "message": str(message.pk),
                    "delivery": delivery,
                },
            )
    message.delivery, message.delivery_attempts = delivery, attempts
    message.next_delivery_at = next_at


def do_accept_conversation(conversation_id, *, acting_user) -> Conversation:
    """Give a waiting conversation of one of the agent's queues to the agent (`acting_user`),
    while the agent is still one: active, staff and in the Agents group (queue memberships
    outlive those).

    Raises ActionRefused (`not_found`, `already_taken`).
    """
    agent = acting_user
    taken = message_insert.take_with_message(
        conversation_id,
        agent=agent,
        sender=Message.Sender.SYSTEM,
        text=f"{agent.get_full_name() or agent.get_username()} joined the conversation.",
    )
    if taken is None:  # not taken: say why
        agent_queues = message_insert.agent_queue_ids(agent.pk)
        if not Conversation.objects.filter(pk=conversation_id, queue_id__in=agent_queues).exists():
            raise ActionRefused("not_found", NOT_IN_YOUR_QUEUES)
        raise ActionRefused("already_taken", "Another agent has taken this conversation.")
    joined, queue_id = taken
    tell(queue_group(queue_id), {"type": "queue.taken", "conversation": str(conversation_id)})
    tell(conversation_group(conversation_id), message_event(conversation_id, joined))
    return load(conversation_id)


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
        if reason in CLOSED_TEXT:
            text = CLOSED_TEXT[reason]
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
    at a time (see do_close_abandoned_batch), and return how many."""
    closed = 0
    while (batch := do_close_abandoned_batch(now=now)) == SWEEP_BATCH:
        closed += batch
    return closed + batch


def do_close_abandoned_batch(*, now: datetime) -> int:
    """Close up to SWEEP_BATCH of the chats abandoned at `now` in one transaction; returns how
    many. Processes sweeping at once each claim rows no other has locked (SKIP LOCKED), so a
    conversation is closed once."""
    with transaction.atomic():
        batch = list(
            Conversation.objects.abandoned(now)
            .select_for_update(skip_locked=True)
            .order_by("visitor_seen_at")[:SWEEP_BATCH]
        )
        for conversation in batch:
            do_close_conversation(conversation, reason=ABANDONED)
    return len(batch)


def do_authenticate_conversation(
    conversation: Conversation,
    *,
    identity: Identity,
    context: dict,
    dropped: list[str],
    reroute: bool = False,
) -> Conversation:
    """Sign an ongoing conversation in (session upgrade, a renewed session, an Apple sign-in)
    until the identity's `authenticated_until` (None: for good); with `reroute`, a waiting
    conversation is routed again as authenticated. Never downgrades; a conversation already
    signed in keeps its subject. Raises ActionRefused (`subject_mismatch`)."""
    with transaction.atomic():
        conversation = lock(conversation.pk)
        if conversation.subject and conversation.subject != identity.subject:
            raise ActionRefused(
                "subject_mismatch", "The token is for another customer than this conversation."
            )
        conversation.authenticated = True
        conversation.authenticated_until = identity.authenticated_until
        conversation.expiry_announced_at = None
        conversation.subject = identity.subject
        conversation.contact = identity.contact()
        conversation.authentication = authentication_of(identity, dropped)
        conversation.context = {**conversation.context, **context}
        left_queue = None
        if reroute and conversation.status == WAITING:
            left_queue = reroute_waiting(conversation)
        conversation.save()
        conversation = load(conversation.pk)
        if left_queue is not None:
            tell(
                queue_group(left_queue),
                {"type": "queue.taken", "conversation": str(conversation.pk)},
            )
            tell(
                queue_group(conversation.queue_id),
                {"type": "queue.waiting", "conversation": conversation_summary(conversation)},
            )
        tell(conversation_group(conversation.pk), authentication_event(conversation))
    return conversation


def reroute_waiting(conversation: Conversation) -> int | None:
    """Route a waiting conversation again as it now stands; returns the queue it left, or
    None when it stays (or no rule takes it: it keeps its place)."""
    try:
        chosen = route(
            conversation.channel_instance.workstream,
            authenticated=conversation.authenticated,
            context=conversation.context,
        )
    except NoRoute:
        return None
    left = conversation.queue_id
    conversation.priority = chosen.priority
    if chosen.queue_id == left:
        return None
    conversation.queue_id = chosen.queue_id
    return left


def authentication_event(conversation: Conversation) -> dict:
    """The `authentication` event of a conversation as it reads now (its summary loaded)."""
    summary = conversation_summary(conversation)
    return {
        "type": "conversation.authentication",
        "conversation": str(conversation.pk),
        "authenticated": summary["authenticated"],
        "authenticated_until": summary["authenticated_until"],
        "verification": summary["verification"],
        "summary": summary,
    }


def do_announce_lapsed_sign_ins(*, now: datetime) -> int:
    """Tell the agents of every conversation whose sign-in lapsed by `now` that it is no
    longer authenticated, once; returns how many. Each row is claimed by a compare-and-set
    update (and skipped while another process holds it locked), so however many processes
    sweep at once, one tells."""
    announced = 0
    with transaction.atomic():
        lapsed = list(
            Conversation.objects.sign_in_lapsed(now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        for conversation_id in lapsed:
            claimed = Conversation.objects.filter(
                pk=conversation_id, expiry_announced_at__isnull=True
            ).update(expiry_announced_at=now)
            if claimed:
                announced += 1
                event = authentication_event(load(conversation_id))
                tell(conversation_group(conversation_id), {**event, "authenticated": False})
    return announced


def do_tell_sign_in_failed(conversation_id, *, code: str, detail: str) -> None:
    """Tell the agents of a conversation, in one sentence, why a sign-in failed."""
    tell(
        conversation_group(conversation_id),
        {
            "type": "conversation.error",
            "conversation": str(conversation_id),
            "code": code,
            "detail": detail,
        },
    )


def do_request_authentication(
    conversation: Conversation,
    *,
    setting,
    rich_message,
    request_identifier,
    state_hash: str,
    private_key: str,
    redirect_uri: str,
    expires_at: datetime,
    acting_user,
) -> AppleAuthenticationRequest:
    """Store a sign-in request and its message to the customer, which waits for delivery.

    Raises ActionRefused (`conversation_closed`) once the conversation is closed.
    """
    with transaction.atomic():
        if lock(conversation.pk).status == CLOSED:
            raise ActionRefused("conversation_closed", "This conversation is closed.")
        message = Message.objects.create(
            conversation=conversation,
            sender=Message.Sender.SYSTEM,
            author=acting_user,
            text=f"Sign-in requested: {rich_message.content['received_message']}",
            **pending_delivery(),
        )
        sign_in = AppleAuthenticationRequest.objects.create(
            request_identifier=request_identifier,
            conversation=conversation,
            setting=setting,
            rich_message=rich_message,
            requested_by=acting_user,
            state_hash=state_hash,
            private_key=private_key,
            redirect_uri=redirect_uri,
            message=message,
            expires_at=expires_at,
        )
        tell(conversation_group(conversation.pk), message_event(conversation.pk, message))
        transaction.on_commit(sweeps.nudge)
    return sign_in


def do_use_sign_in(sign_in: AppleAuthenticationRequest, *, now: datetime) -> bool:
    """Use up a sign-in request (its state works once): returns False when it was used
    already."""
    return bool(
        AppleAuthenticationRequest.objects.filter(pk=sign_in.pk, completed_at__isnull=True).update(
            completed_at=now
        )
    )


def do_fail_sign_in(sign_in: AppleAuthenticationRequest, *, code: str, detail: str) -> None:
    """Record that a used sign-in request failed, and tell the agents why in one sentence."""
    with transaction.atomic():
        AppleAuthenticationRequest.objects.filter(pk=sign_in.pk).update(
            outcome=AppleAuthenticationRequest.Outcome.FAILED
        )
        do_tell_sign_in_failed(sign_in.conversation_id, code=code, detail=detail)
        decisions.refused_apple_sign_in(
            code, detail, setting_id=sign_in.setting_id, conversation=sign_in.conversation
        )


def do_complete_sign_in(sign_in: AppleAuthenticationRequest, *, identity: Identity) -> Conversation:
    """Sign the request's conversation in as `identity`, routed again as authenticated.
    Raises ActionRefused (`subject_mismatch`)."""
    with transaction.atomic():
        conversation = do_authenticate_conversation(
            sign_in.conversation,
            identity=identity,
            context={},
            dropped=[],
            reroute=True,
        )
        AppleAuthenticationRequest.objects.filter(pk=sign_in.pk).update(
            outcome=AppleAuthenticationRequest.Outcome.AUTHENTICATED
        )
    return conversation
