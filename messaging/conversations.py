"""The conversation service: what the ways into a conversation (the widget's and the agent's
sockets, and any other channel) ask of conversations. Each `check_*` finds and validates what
its write in messaging.actions (`do_*`) is given; the reads return what sockets send. Plain
synchronous functions: consumers run them on Channels' database thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from authsettings import sessions, tokens
from authsettings.tokens import TokenRefused, VerifiedToken
from contactcenter.lib.identifiers import is_uuid
from messaging import actions, origins
from messaging.models import ChannelInstance, Conversation, Deployment, Message
from messaging.summaries import conversation_summary, message_frame
from workstreams import context as context_typing

NOT_IN_YOUR_QUEUES = "No such conversation in your queues."
# The checked claims kept in a conversation's authentication record; others are not stored.
TRAIL_CLAIMS = ("iss", "sub", "iat", "exp", "nbf")


@dataclass(frozen=True)
class Arrival:
    """Who starts or signs in to a conversation, as do_start_conversation and
    do_authenticate_conversation take it: the verified customer (None: anonymous), the
    context the workstream accepted and the variables it dropped."""

    identity: actions.Identity | None
    context: dict
    dropped: list[str]


ANONYMOUS = Arrival(identity=None, context={}, dropped=[])


def transcript(conversation_id, *, after: int | None = None) -> list[dict]:
    """The conversation's messages as frames, oldest first; only those after `after`."""
    messages = Message.objects.filter(conversation_id=conversation_id).order_by("id")
    if after is not None:
        messages = messages.filter(id__gt=after)
    return [message_frame(message) for message in messages]


# Visitors


def find_widget(widget_id: str) -> tuple[ChannelInstance, list[origins.DeploymentDomains]]:
    """The chat widget and where its deployments let it run. Raises ActionRefused
    (`bad_frame`) for an unknown id."""
    widget = ChannelInstance.find_widget(widget_id)
    if widget is None:
        raise actions.ActionRefused("bad_frame", "No chat widget has this id.")
    return widget, origins.deployment_domains(widget)


def find_deployment(deployment_id: str) -> Deployment:
    return Deployment.objects.get(deployment_id=deployment_id)


def token_reads_database(widget: ChannelInstance) -> bool:
    """A code-flow session token is checked against its sign-in's record; an implicit-flow
    token only against keys (CPU work best kept off the database thread)."""
    setting = widget.authentication_setting
    return setting is not None and setting.authentication_type in setting.CODE_FLOWS


def verify_token(widget: ChannelInstance, token: str, *, now: float) -> VerifiedToken:
    """Check a customer's token with the widget's authentication setting. Raises TokenRefused."""
    setting = widget.authentication_setting
    if setting is None:
        raise TokenRefused("token_invalid", "This chat has no authentication setting.")
    if token_reads_database(widget):
        return sessions.verify(setting, token, now=now, widget_id=str(widget.widget_id))
    return tokens.verify(
        token,
        key_source=tokens.KeyUrl(setting.public_key_url),
        rules=tokens.Rules.of(setting),
        now=now,
    )


def authenticated_until(widget: ChannelInstance, verified: VerifiedToken) -> datetime | None:
    """How long a verified token vouches for the customer: a code-flow session token until
    its exp (the widget renews it before then); an implicit-flow token for good."""
    if not token_reads_database(widget):
        return None
    return datetime.fromtimestamp(verified.claims["exp"], tz=UTC)


def find_deployment_id(conversation: Conversation) -> str | None:
    """The public id of the deployment the conversation started through, if any."""
    deployment = Deployment.objects.filter(pk=conversation.deployment_id).first()
    return str(deployment.deployment_id) if deployment else None


def check_arrival(widget: ChannelInstance, verified: VerifiedToken | None) -> Arrival:
    """Who arrives with a verified token (or none) and the context the widget's workstream
    takes from it. Raises TokenRefused: `token_missing` where the chat needs a signed-in
    customer, `context_invalid`."""
    if verified is None:
        if widget.require_authentication:
            raise TokenRefused(
                "token_missing", "This chat needs a signed-in customer; sign in first."
            )
        return ANONYMOUS
    try:
        context, dropped = context_typing.accept_context(
            verified.claims.get("lwicontexts"), widget.workstream.variable_types()
        )
    except context_typing.ContextInvalid as error:
        raise TokenRefused("context_invalid", str(error)) from None
    setting = widget.authentication_setting
    identity = actions.Identity(
        subject=verified.sub,
        setting_id=setting.pk,
        setting_name=setting.name,
        kid=verified.kid,
        iss=verified.iss,
        claims={k: verified.claims[k] for k in TRAIL_CLAIMS if k in verified.claims},
        link_contacts=setting.link_contacts,
        authenticated_until=authenticated_until(widget, verified),
    )
    return Arrival(identity, context, dropped)


def start_conversation(
    widget: ChannelInstance, deployment: Deployment | None, arrival: Arrival
) -> tuple[Conversation, str]:
    return actions.do_start_conversation(
        widget,
        deployment=deployment,
        identity=arrival.identity,
        context=arrival.context,
        dropped=arrival.dropped,
    )


def check_resume(widget: ChannelInstance, conversation_id: str, resume_token: str) -> Conversation:
    """The open conversation of the widget that the resume token opens. Raises ActionRefused
    (`resume_invalid`)."""
    conversation = None
    if is_uuid(conversation_id):
        conversation = (
            Conversation.objects.filter(pk=conversation_id, channel_instance=widget)
            .exclude(status=Conversation.Status.CLOSED)
            .first()
        )
    if conversation is None or not actions.resume_token_matches(conversation, resume_token):
        raise actions.ActionRefused(
            "resume_invalid", "This conversation cannot be resumed; start a new chat."
        )
    return conversation


def authenticate_conversation(conversation_id, arrival: Arrival) -> Conversation:
    """Sign an ongoing conversation in. Raises ActionRefused (`subject_mismatch`)."""
    return actions.do_authenticate_conversation(
        Conversation.objects.get(pk=conversation_id),
        identity=arrival.identity,
        context=arrival.context,
        dropped=arrival.dropped,
    )


def post_visitor_message(conversation_id, text: str) -> None:
    actions.do_post_message(
        Conversation.objects.get(pk=conversation_id), sender=Message.Sender.VISITOR, text=text
    )


# Agents


def waiting_summaries(queue_ids, *, limit: int) -> list[dict]:
    """The most urgent `limit` waiting conversations of the queues, summarized."""
    waiting = Conversation.objects.waiting_in(queue_ids).with_summary_relations()[:limit]
    return [conversation_summary(conversation) for conversation in waiting]


def active_conversations_of(agent) -> list[tuple[dict, list[dict]]]:
    """The agent's open conversations, each summarized with its transcript."""
    active = Conversation.objects.active_with(agent).with_summary_relations()
    return [(conversation_summary(c), transcript(c.pk)) for c in active]


def queue_ids_of(agent) -> list[int]:
    return list(agent.queues.values_list("id", flat=True))


def check_agent_conversation(conversation_id: str, agent) -> Conversation:
    """The conversation the agent has accepted. Raises ActionRefused (`not_found`)."""
    conversation = Conversation.objects.filter(pk=conversation_id, agent=agent).first()
    if conversation is None:
        raise actions.ActionRefused("not_found", "Accept the conversation first.")
    return conversation


def accept_conversation(conversation_id: str, agent) -> tuple[dict, list[dict]]:
    """Accept a waiting conversation; returns its summary and transcript. Raises ActionRefused
    (`not_found`, `already_taken`)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        raise actions.ActionRefused("not_found", NOT_IN_YOUR_QUEUES)
    conversation = actions.do_accept_conversation(conversation, acting_user=agent)
    return conversation_summary(conversation), transcript(conversation.pk)


def post_agent_message(conversation_id: str, agent, text: str) -> None:
    conversation = check_agent_conversation(conversation_id, agent)
    actions.do_post_message(conversation, sender=Message.Sender.AGENT, text=text, acting_user=agent)


def close_agent_conversation(conversation_id: str, agent) -> None:
    actions.do_close_conversation(
        check_agent_conversation(conversation_id, agent), acting_user=agent
    )
