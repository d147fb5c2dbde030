"""The conversation service: what the ways into a conversation (the widget's and the agent's
sockets, and any other channel) ask of conversations. Each `check_*` finds and validates what
its write in messaging.actions (`do_*`) is given; the reads return what sockets send. Plain
synchronous functions: consumers run them on Channels' database thread."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from authsettings import sessions, tokens
from authsettings.models import AuthenticationSetting
from authsettings.tokens import TokenRefused, VerifiedToken
from contactcenter import metrics
from contactcenter.lib.identifiers import is_uuid
from contactcenter.lib.strict_json import shown
from messaging import actions, decisions, start_cache
from messaging.apple import authentication as apple_authentication
from messaging.frames import MAX_MESSAGE_CHARACTERS, FrameRefused, check_message_text
from messaging.models import (
    AppleAuthenticationRequest,
    AppleReceipt,
    ChannelInstance,
    Conversation,
    Deployment,
    Message,
    RichMessage,
)
from messaging.summaries import conversation_summary, message_frame
from workstreams import context as context_typing

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


def find_widget(widget_id: str) -> start_cache.WidgetReads:
    """The chat widget, its deployments and where they let it run, as this process keeps them
    (see messaging.start_cache). Raises ActionRefused (`bad_frame`) for an unknown id."""
    reads = start_cache.widget(widget_id)
    if reads is None:
        raise actions.ActionRefused("bad_frame", "No chat widget has this id.")
    return reads


def token_reads_database(widget: ChannelInstance) -> bool:
    """A code-flow session token is checked against its sign-in's record; an implicit-flow
    token only against keys (CPU work best kept off the database thread)."""
    setting = widget.authentication_setting
    return setting is not None and setting.authentication_type in setting.CODE_FLOWS


@metrics.TOKEN_CHECKS.time()
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
    if conversation.deployment_id is None:
        return None
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
    widget: ChannelInstance,
    deployment: Deployment | None,
    arrival: Arrival,
    *,
    conversation_id: uuid.UUID | None = None,
    routing: start_cache.Routing | None = None,
) -> actions.Started:
    return actions.do_start_conversation(
        widget,
        deployment=deployment,
        identity=arrival.identity,
        context=arrival.context,
        dropped=arrival.dropped,
        conversation_id=conversation_id,
        routing=routing,
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
    actions.do_post_message(conversation_id, sender=Message.Sender.VISITOR, text=text)


# Agents


def waiting_summaries(queue_ids, *, limit: int) -> list[dict]:
    """The most urgent `limit` waiting conversations of the queues, summarized."""
    waiting = Conversation.objects.waiting_in(queue_ids).with_summary_relations()[:limit]
    return [conversation_summary(conversation) for conversation in waiting]


def active_conversations_of(agent) -> list[tuple[dict, list[dict]]]:
    """The agent's open conversations, each summarized with its transcript."""
    active = Conversation.objects.active_with(agent).with_summary_relations()
    return [(conversation_summary(c), transcript(c.pk)) for c in active]


def active_ids_of(agent) -> list[str]:
    """The ids of the agent's open conversations."""
    return [str(pk) for pk in Conversation.objects.active_with(agent).values_list("pk", flat=True)]


def queue_ids_of(agent) -> list[int]:
    return list(agent.queues.values_list("id", flat=True))


def check_agent_conversation(conversation_id: str, agent) -> Conversation:
    """The conversation the agent has accepted. Raises ActionRefused (`not_found`)."""
    return actions.check_held_by(conversation_id, agent)


def accept_conversation(conversation_id: str, agent) -> tuple[dict, list[dict]]:
    """Accept a waiting conversation; returns its summary and transcript. Raises ActionRefused
    (`not_found`, `already_taken`)."""
    conversation = actions.do_accept_conversation(conversation_id, acting_user=agent)
    return conversation_summary(conversation), transcript(conversation.pk)


def post_agent_message(conversation_id: str, agent, text: str) -> None:
    actions.do_post_message(
        conversation_id, sender=Message.Sender.AGENT, text=text, acting_user=agent
    )


def close_agent_conversation(conversation_id: str, agent) -> None:
    actions.do_close_conversation(
        check_agent_conversation(conversation_id, agent), acting_user=agent
    )


# Apple customers


@dataclass(frozen=True)
class AppleInbound:
    """A message from Apple's gateway, its headers checked: the message id, the customer,
    the capability list (None when not sent) and the JSON body."""

    message_id: str
    customer_id: str
    capabilities: str | None
    body: dict


class InboundRefused(actions.ActionRefused):
    """An Apple message whose body cannot be handled (answered 400)."""


def receive_apple_message(channel_instance: ChannelInstance, inbound: AppleInbound) -> None:
    """Handle a message from an Apple customer once: a repeated message id changes nothing.
    Raises InboundRefused; ActionRefused (`workstream_unavailable`) when no queue can take a
    new conversation."""
    with transaction.atomic():
        _, new = AppleReceipt.objects.get_or_create(id=inbound.message_id)
        if not new:
            return
        kind = inbound.body.get("type")
        if kind == "text":
            text = inbound.body.get("body")
            try:
                check_message_text(text)
            except FrameRefused as refusal:
                raise InboundRefused("bad_body", f"The text body: {refusal.detail}") from None
            post_customer_message(channel_instance, inbound, text)
        elif kind == "interactive":
            receive_interactive(channel_instance, inbound)
        elif kind in ("typing_start", "typing_end", "close"):
            conversation = customer_conversation(channel_instance, inbound.customer_id)
            if conversation is None:
                return
            if kind == "close":
                actions.do_close_conversation(conversation, reason=actions.BY_CUSTOMER)
            else:
                actions.do_relay_typing(conversation, typing=kind == "typing_start")


def customer_conversation(channel_instance, customer_id: str) -> Conversation | None:
    return (
        Conversation.objects.open_of(channel_instance, customer_id=customer_id)
        .order_by("-created_at")
        .first()
    )


def post_customer_message(channel_instance, inbound: AppleInbound, text: str) -> None:
    """Post the customer's message to their open conversation, or start one: anonymous,
    empty context, routed by the workstream's rules."""
    conversation = customer_conversation(channel_instance, inbound.customer_id)
    if conversation is None:
        conversation = actions.do_start_conversation(
            channel_instance,
            deployment=None,
            identity=None,
            context={},
            dropped=[],
            customer_id=inbound.customer_id,
            capabilities=inbound.capabilities or "",
        ).conversation
    elif inbound.capabilities is not None:
        actions.do_note_capabilities(conversation, inbound.capabilities)
    actions.do_post_message(conversation.pk, sender=Message.Sender.VISITOR, text=text)


def receive_interactive(channel_instance, inbound: AppleInbound) -> None:
    interactive = inbound.body.get("interactiveData")
    if not isinstance(interactive, dict):
        raise InboundRefused("bad_body", "An interactive message needs an interactiveData object.")
    data = interactive.get("data")
    if isinstance(data, dict) and "authenticate" in data:
        receive_sign_in_reply(channel_instance, inbound.customer_id, data)
        return
    reply = interactive.get("replyMessage")
    title = reply.get("title") if isinstance(reply, dict) else None
    text = title if isinstance(title, str) and title.strip() else "(an interactive reply)"
    post_customer_message(channel_instance, inbound, text[:MAX_MESSAGE_CHARACTERS])


def receive_sign_in_reply(channel_instance, customer_id: str, data: dict) -> None:
    """The device's answer to a sign-in request: it closes the request. A failure status is
    told to the agent; the code flow's encrypted token is read and signs the customer in (the
    OpenID Connect flow signed in at its callback already). Unknown requests are ignored."""
    identifier, answer = data.get("requestIdentifier"), data.get("authenticate")
    if not is_uuid(identifier) or not isinstance(answer, dict):
        raise InboundRefused(
            "bad_body", "A sign-in reply needs data.requestIdentifier and data.authenticate."
        )
    sign_in = (
        AppleAuthenticationRequest.objects.select_related("setting", "conversation")
        .filter(
            pk=identifier,
            conversation__channel_instance=channel_instance,
            conversation__customer_id=customer_id,
        )
        .first()
    )
    if sign_in is None:
        return
    status = answer.get("status")
    now = timezone.now()
    if status != "authenticated":
        if actions.do_use_sign_in(sign_in, now=now):
            actions.do_fail_sign_in(
                sign_in,
                code="sign_in_failed",
                detail=f"The customer's device reports the sign-in did not succeed "
                f"({shown(status, 40)}); ask them to try again.",
            )
        return
    if sign_in.setting.authentication_type != sign_in.setting.Type.OAUTH2_CODE:
        return
    if not actions.do_use_sign_in(sign_in, now=now):
        return
    try:
        if sign_in.expires_at <= now:
            raise apple_authentication.SignInFailed(
                "state_expired",
                "The customer answered a sign-in request more than 10 minutes old; request "
                "sign-in again.",
            )
        access_token = apple_authentication.decrypt_token(sign_in.private_key, answer.get("token"))
        subject = apple_authentication.read_subject(sign_in.setting, access_token)
    except apple_authentication.SignInFailed as failure:
        actions.do_fail_sign_in(sign_in, code=failure.code, detail=failure.detail)
        return
    complete_sign_in(sign_in, subject, now=now)


def finish_openid_sign_in(setting_id: int, *, state: str, code: str, error: str) -> Conversation:
    """The provider sent the customer back: check the state (single use, 10 minutes, this
    setting's), redeem the code and identify the customer. Raises SignInFailed (told to the
    agent unless the state names no request)."""
    now = timezone.now()
    SignInFailed = apple_authentication.SignInFailed
    sign_in = (
        AppleAuthenticationRequest.objects.select_related("setting", "conversation")
        .filter(state_hash=apple_authentication.state_hash(state))
        .first()
        if state
        else None
    )
    if sign_in is None:
        failure = SignInFailed(
            "state_invalid", "This sign-in link is not known; ask for a new one in Messages."
        )
        decisions.refused_apple_sign_in(failure.code, failure.detail, setting_id=setting_id)
        raise failure
    if sign_in.setting_id != setting_id:
        # The state is bound to its setting: used at another's callback, it is used up.
        if actions.do_use_sign_in(sign_in, now=now):
            actions.do_fail_sign_in(
                sign_in,
                code="state_invalid",
                detail="The customer came back to another setting's sign-in address; request "
                "sign-in again.",
            )
        raise SignInFailed(
            "state_invalid", "This sign-in link is not known; ask for a new one in Messages."
        )
    if not actions.do_use_sign_in(sign_in, now=now):
        failure = SignInFailed(
            "state_reused",
            "The customer's sign-in link was used a second time and refused; request sign-in "
            "again if needed.",
        )
        actions.do_tell_sign_in_failed(
            sign_in.conversation_id, code=failure.code, detail=failure.detail
        )
        decisions.refused_apple_sign_in(
            failure.code, failure.detail, setting_id=setting_id, conversation=sign_in.conversation
        )
        raise failure
    try:
        if sign_in.expires_at <= now:
            raise SignInFailed(
                "state_expired",
                "The customer used a sign-in link more than 10 minutes old; request sign-in again.",
            )
        if error:
            raise apple_authentication.provider_error(error)
        if not code:
            raise SignInFailed(
                "provider_refused",
                "The identity provider sent the customer back without a code.",
                status=502,
            )
        access_token = apple_authentication.redeem_code(sign_in.setting, code, sign_in.redirect_uri)
        subject = apple_authentication.read_subject(sign_in.setting, access_token)
    except SignInFailed as failure:
        actions.do_fail_sign_in(sign_in, code=failure.code, detail=failure.detail)
        raise
    conversation = complete_sign_in(sign_in, subject, now=now)
    if conversation is None:
        raise SignInFailed("subject_mismatch", SUBJECT_MISMATCH)
    return conversation


SUBJECT_MISMATCH = "The customer signed in as someone else than this conversation's customer."


def complete_sign_in(sign_in, subject: str, *, now) -> Conversation | None:
    """Sign the conversation in as `subject`; None (and the agent told) when it is already
    signed in as someone else."""
    setting = sign_in.setting
    identity = actions.Identity(
        subject=subject,
        setting_id=setting.pk,
        setting_name=setting.name,
        kid=None,
        iss=None,
        claims={},
        link_contacts=setting.link_contacts,
        authenticated_until=now + timedelta(seconds=setting.access_token_expiry_seconds),
        authentication_type=setting.authentication_type,
    )
    try:
        conversation = actions.do_complete_sign_in(sign_in, identity=identity)
    except actions.ActionRefused:
        actions.do_fail_sign_in(sign_in, code="subject_mismatch", detail=SUBJECT_MISMATCH)
        return None
    decisions.accepted_apple_sign_in(
        setting_id=setting.pk, conversation=conversation, subject=subject
    )
    return conversation


def check_request_authentication(
    conversation: Conversation, rich_message_id: object = None
) -> tuple[AuthenticationSetting, RichMessage]:
    """The setting and authentication rich message a sign-in request for the conversation
    sends. Raises ActionRefused: `conversation_closed`, `authentication_unavailable`,
    `capability_missing`, `rich_message_invalid`."""
    if conversation.status == Conversation.Status.CLOSED:
        raise actions.ActionRefused(
            "conversation_closed", "This conversation is closed; a sign-in cannot be requested."
        )
    setting = conversation.channel_instance.authentication_setting
    if not conversation.customer_id or setting is None or not setting.is_apple:
        raise actions.ActionRefused(
            "authentication_unavailable",
            "This conversation's channel has no Apple Messages for Business authentication "
            "setting.",
        )
    capability = apple_authentication.CAPABILITY[setting.authentication_type]
    if not conversation.has_capability(capability):
        raise actions.ActionRefused(
            "capability_missing",
            f"The customer's device cannot sign in from Messages (it does not list {capability}).",
        )
    choices = sign_in_messages(setting)
    if rich_message_id is None and choices:
        return setting, choices[0]
    chosen = next((m for m in choices if m.pk == rich_message_id), None)
    if chosen is None:
        raise actions.ActionRefused(
            "rich_message_invalid", "Choose one of the setting's authentication rich messages."
        )
    return setting, chosen


def sign_in_messages(setting: AuthenticationSetting) -> list[RichMessage]:
    return list(
        setting.rich_messages.filter(type=RichMessage.Type.AUTHENTICATION).order_by("name", "id")
    )


def request_authentication(
    conversation: Conversation, *, rich_message_id: object, platform_url: str, acting_user
) -> AppleAuthenticationRequest:
    """Send the conversation's customer a sign-in request. Raises ActionRefused (see
    check_request_authentication)."""
    setting, rich_message = check_request_authentication(conversation, rich_message_id)
    identifier = uuid.uuid4()
    code_flow = setting.authentication_type == setting.Type.OAUTH2_CODE
    return actions.do_request_authentication(
        conversation,
        setting=setting,
        rich_message=rich_message,
        request_identifier=identifier,
        state_hash=apple_authentication.state_hash(apple_authentication.state_of(identifier)),
        private_key=apple_authentication.new_private_key() if code_flow else "",
        redirect_uri="" if code_flow else setting.redirect_url_at(platform_url),
        expires_at=timezone.now() + apple_authentication.REQUEST_LIFETIME,
        acting_user=acting_user,
    )


def request_agent_authentication(
    conversation_id: str, agent, rich_message_id: object, platform_url: str
) -> None:
    request_authentication(
        check_agent_conversation(conversation_id, agent),
        rich_message_id=rich_message_id,
        platform_url=platform_url,
        acting_user=agent,
    )
