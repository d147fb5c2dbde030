"""A signed-in customer's chat from start to end (CONTRACT.md "Conversation end, expiry and
re-authentication"): the open conversation that continues on every device where the widget
keeps conversations, what a code-flow sign-out does to it, and when the visitor's socket asks
for a fresh session token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db import transaction

from authsettings import codeflow
from authsettings.tokens import VerifiedToken
from messaging import actions, conversations, resume_tokens, start_cache
from messaging.conversations import Arrival
from messaging.models import ChannelInstance, Conversation, Deployment

# The socket asks for a fresh session token this long before the one it has expires.
REAUTHENTICATE_BEFORE_SECONDS = 60


def check_open_conversation(widget: ChannelInstance, arrival: Arrival) -> Conversation | None:
    """The open conversation a start continues: the verified customer's newest one on a widget
    with persistent conversations; None where a new one starts."""
    if not widget.persistent_conversations or arrival.identity is None:
        return None
    return Conversation.objects.open_of(widget, subject=arrival.identity.subject).first()


def start_or_continue(
    widget: ChannelInstance,
    deployment: Deployment | None,
    arrival: Arrival,
    *,
    new_id: uuid.UUID | None = None,
    routing: start_cache.Routing | None = None,
) -> actions.Started:
    """A new conversation (with the id `new_id` and routed with `routing`, when given); or the
    customer's open one (see check_open_conversation), signed in afresh with this start's
    token, with a resume token of this socket's own (the other devices keep theirs). Raises
    ActionRefused."""
    open_one = check_open_conversation(widget, arrival)
    if open_one is None:
        return conversations.start_conversation(
            widget, deployment, arrival, conversation_id=new_id, routing=routing
        )
    conversation = conversations.authenticate_conversation(open_one.pk, arrival)
    return actions.Started(conversation, resume_tokens.issue(conversation), transcript=None)


def arrive(
    widget: ChannelInstance,
    deployment: Deployment | None,
    verified: VerifiedToken | None,
    *,
    new_id: uuid.UUID | None = None,
    routing: start_cache.Routing | None = None,
) -> actions.Started:
    """Who arrives with the verified token (see conversations.check_arrival), then their chat
    started or continued (see start_or_continue). Raises Refused."""
    arrival = conversations.check_arrival(widget, verified)
    return start_or_continue(widget, deployment, arrival, new_id=new_id, routing=routing)


def may_authenticate(widget: ChannelInstance, conversation_id) -> bool:
    """Whether the conversation takes an `authenticate` frame: anywhere session upgrade is on;
    elsewhere only to renew a code-flow sign-in, which lapses with its session token (the
    same sub, as do_authenticate_conversation checks)."""
    if widget.allow_session_upgrade:
        return True
    if not conversations.token_reads_database(widget):
        return False
    return Conversation.objects.filter(pk=conversation_id, subject__isnull=False).exists()


def sign_out(widget: ChannelInstance, refresh_token: str, *, now: float) -> None:
    """A code-flow logout: revoke the sign-in the refresh token belongs to, then do what the
    widget's on_logout says with the customer's open conversations on it."""
    with transaction.atomic():
        sign_in = codeflow.logout(str(widget.widget_id), refresh_token, now=now)
        if sign_in is not None:
            do_sign_out_conversations(
                widget, sign_in.subject, at=datetime.fromtimestamp(now, tz=UTC)
            )


def do_sign_out_conversations(widget: ChannelInstance, subject: str, *, at: datetime) -> int:
    """The customer signed out of the widget at `at`. `end`: their open conversations close
    with reason `logout`; `keep`: they stay open and read authenticated false from `at` on (the
    agents are told as when any sign-in lapses). Returns how many conversations changed."""
    with transaction.atomic():
        open_ones = Conversation.objects.open_of(widget, subject=subject)
        if widget.on_logout == ChannelInstance.OnLogout.END:
            ended = list(open_ones.select_for_update())
            for conversation in ended:
                actions.do_close_conversation(conversation, reason=actions.LOGOUT)
            return len(ended)
        return open_ones.authenticated_at(at).update(authenticated_until=at, modified_at=at)


def reauthenticate_delay(until: datetime | None, *, now: float) -> float | None:
    """Seconds from `now` until the socket sends `reauthenticate` for a sign-in that lapses at
    `until`: REAUTHENTICATE_BEFORE_SECONDS before, at once when less is left. None when the
    sign-in does not lapse or already has."""
    if until is None or until.timestamp() <= now:
        return None
    return max(0.0, until.timestamp() - REAUTHENTICATE_BEFORE_SECONDS - now)


def reauthenticate_frame(until: datetime, *, now: float) -> dict:
    return {"type": "reauthenticate", "expires_in": max(0, round(until.timestamp() - now))}
