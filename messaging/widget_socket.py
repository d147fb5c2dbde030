"""The chat widget's socket (`/ws/widget/<widget_id>/`), as CONTRACT.md describes it."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from functools import partial

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from authsettings import sessions, tokens
from messaging import actions, origins, ratelimits
from messaging.frames import (
    CLOSE_AUTHENTICATION,
    CLOSE_BAD_FRAME,
    CLOSE_ENDED,
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    FrameConsumer,
    Refusal,
    check_message_text,
    client_address,
    is_uuid,
    scope_header,
)
from messaging.models import ChannelInstance, Conversation, Message
from messaging.presence import presence
from messaging.summaries import message_frame
from workstreams import context as context_typing

START_TIMEOUT_SECONDS = 10
# How often each process vouches for its visitors and sweeps abandoned chats.
MESSAGE_BURST = 20
MESSAGE_ID = re.compile(r"[0-9]{1,18}")
# The checked claims kept in a conversation's authentication trail; others are not stored.
TRAIL_CLAIMS = ("iss", "sub", "iat", "exp", "nbf")

CLOSE_CODES = {
    "bad_frame": CLOSE_BAD_FRAME,
    "origin_not_allowed": CLOSE_FORBIDDEN,
    "deployment_inactive": CLOSE_FORBIDDEN,
    "workstream_unavailable": CLOSE_FORBIDDEN,
    "rate_limited": CLOSE_RATE_LIMITED,
}


class VisitorConsumer(FrameConsumer):
    """The chat widget's socket: start or resume, then messages and mid-chat sign-ins."""

    async def connect(self):
        self.widget = None
        self.conversation_id = None
        self.started = False
        self.refused = False
        self.counted = False
        self.bucket = ratelimits.TokenBucket(settings.CC_WIDGET_MESSAGES_PER_SECOND, MESSAGE_BURST)
        self.client = client_address(self.scope)
        self.own_origin = origins.socket_own_origin(self.scope)
        await self.accept()
        self.start_deadline = asyncio.create_task(self.expire_start())
        if self.own_origin is None:
            await self.refuse(
                "origin_not_allowed",
                "This address is not the platform's; connect to the one the snippet loads from.",
            )
        elif await in_cache_thread(ratelimits.open_socket)(self.client):
            self.counted = True
        else:
            await self.refuse("rate_limited", "Too many chats are open from here; close one.")

    async def disconnect(self, code):
        self.start_deadline.cancel()
        if self.counted:
            await in_cache_thread(ratelimits.close_socket)(self.client)
        if self.conversation_id:
            await self.channel_layer.group_discard(
                actions.conversation_group(self.conversation_id), self.channel_name
            )
            await presence.leave(self.conversation_id)

    async def expire_start(self):
        await asyncio.sleep(START_TIMEOUT_SECONDS)
        await self.refuse("bad_frame", "Send a start frame within 10 seconds.")

    def allowed_frame_types(self):
        if self.started:
            return frozenset({"message", "authenticate"})
        return frozenset({"start", "resume"})

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.refused:  # nothing more is read from a socket refused at start
            return
        # The first frame arrived in time; its checks (a key fetch) may take longer.
        self.start_deadline.cancel()
        await super().receive(text_data, bytes_data, **kwargs)

    async def refuse(self, code: str, detail: str) -> None:
        await super().refuse(code, detail)
        if not self.started:
            self.refused = True
            self.start_deadline.cancel()
            await self.close(code=CLOSE_CODES.get(code, CLOSE_AUTHENTICATION))

    # First frames

    async def frame_start(self, content):
        token = content.get("token")
        if token is not None and not isinstance(token, str):
            raise Refusal("bad_frame", "The token is a string or null.")
        deployment_id = content.get("deployment_id")
        self.widget, deployment = await self.admit(deployment_id)
        await self.count_start()
        identity, context, dropped = await self.identify(token)
        if identity is None and self.widget.require_authentication:
            raise Refusal("token_missing", "This chat needs a signed-in customer; sign in first.")
        conversation, resume_token = await database_sync_to_async(actions.do_start_conversation)(
            self.widget,
            deployment=deployment,
            identity=identity,
            context=context,
            dropped=dropped,
        )
        await self.join(conversation.pk)
        await self.send_json(
            {
                "type": "started",
                "conversation": str(conversation.pk),
                "authenticated": conversation.authenticated_now,
                "resume_token": resume_token,
            }
        )
        await self.replay(conversation.pk, after=None)

    async def frame_resume(self, content):
        conversation_id = content.get("conversation")
        resume_token = content.get("resume_token")
        after = content.get("after")
        if not isinstance(conversation_id, str) or not isinstance(resume_token, str):
            raise Refusal("bad_frame", "A resume frame has a conversation and a resume_token.")
        if after is not None and not (isinstance(after, str) and MESSAGE_ID.fullmatch(after)):
            raise Refusal("bad_frame", '"after" is the id of a message.')
        self.widget, _ = await self.admit(None)
        await self.count_start()
        conversation = await find_resumable(self.widget, conversation_id, resume_token)
        if conversation is None:
            raise Refusal(
                "resume_invalid", "This conversation cannot be resumed; start a new chat."
            )
        await self.join(conversation.pk)
        await self.send_json(
            {
                "type": "resumed",
                "conversation": str(conversation.pk),
                "authenticated": conversation.authenticated_now,
            }
        )
        await self.replay(conversation.pk, after=int(after) if after else None)

    # Frames after start

    async def frame_message(self, content):
        text = content.get("text")
        check_message_text(text)
        if not self.bucket.take():
            raise Refusal("rate_limited", "Messages are arriving too fast; slow down.")
        await post_visitor_message(self.conversation_id, text)

    async def frame_authenticate(self, content):
        if not self.widget.allow_session_upgrade:
            raise Refusal("upgrade_not_allowed", "This chat does not take a sign-in mid-chat.")
        if not self.bucket.take():
            raise Refusal("rate_limited", "Sign-ins are arriving too fast; slow down.")
        token = content.get("token")
        if not isinstance(token, str) or not token:
            raise Refusal("token_missing", "Send the signed-in customer's token.")
        identity, context, dropped = await self.identify(token)
        conversation = await database_sync_to_async(actions.do_authenticate_conversation)(
            await get_conversation(self.conversation_id),
            identity=identity,
            context=context,
            dropped=dropped,
        )
        await self.send_json(
            {
                "type": "authenticated",
                "conversation": str(conversation.pk),
                "authenticated": True,
            }
        )

    # Steps

    async def admit(self, deployment_id):
        """Load the widget and check the page's origin. Raises CodedError."""
        if deployment_id is not None:
            if not is_uuid(deployment_id):
                raise Refusal("bad_frame", "The deployment_id is a UUID.")
            deployment_id = str(uuid.UUID(deployment_id))
        widget_id = self.scope["url_route"]["kwargs"]["widget_id"]
        widget, deployments = await load_widget(widget_id)
        if widget is None:
            raise Refusal("bad_frame", "No chat widget has this id.")
        matched = origins.check_origin(
            scope_header(self.scope, "origin"),
            own=self.own_origin,
            deployments=deployments,
            deployment_id=deployment_id,
        )
        deployment = await get_deployment(matched.deployment_id) if matched else None
        return widget, deployment

    async def count_start(self) -> None:
        """Count a start or a resume against the address's limit. Raises Refusal."""
        allowed = await in_cache_thread(ratelimits.allow_start)(
            self.client, settings.CC_WIDGET_STARTS_PER_MINUTE
        )
        if not allowed:
            raise Refusal("rate_limited", "Too many chats started from here; wait a minute.")

    async def identify(self, token: str | None):
        """Verify a token and accept its context: (identity, context, dropped), or
        (None, {}, []) without a token. Raises CodedError: the token's code, or context_invalid."""
        if not token:
            return None, {}, []
        setting = self.widget.authentication_setting
        if setting is None:
            raise Refusal("token_invalid", "This chat has no authentication setting.")
        if setting.authentication_type in setting.REFRESHING_TYPES:
            # A code-flow sign-in's session token: checking it reads the sign-in's record.
            verify = database_sync_to_async(
                partial(sessions.verify, setting, widget_id=str(self.widget.widget_id))
            )
        else:
            verify = sync_to_async(
                partial(
                    tokens.verify,
                    key_source=tokens.KeyUrl(setting.public_key_url),
                    rules=tokens.Rules.of(setting),
                ),
                thread_sensitive=False,
            )
        verified = await verify(token, now=time.time())
        variable_types = await variable_types_of(self.widget.workstream_id)
        try:
            context, dropped = context_typing.accept_context(
                verified.claims.get("lwicontexts"), variable_types
            )
        except context_typing.ContextInvalid as error:
            raise Refusal("context_invalid", str(error)) from None
        identity = actions.Identity(
            subject=verified.sub,
            setting_id=setting.pk,
            setting_name=setting.name,
            kid=verified.kid,
            iss=verified.iss,
            claims={k: verified.claims[k] for k in TRAIL_CLAIMS if k in verified.claims},
            link_contacts=setting.link_contacts,
        )
        return identity, context, dropped

    async def join(self, conversation_id):
        self.started = True
        self.start_deadline.cancel()
        self.conversation_id = conversation_id
        await self.channel_layer.group_add(
            actions.conversation_group(conversation_id), self.channel_name
        )
        await presence.enter(conversation_id)

    async def replay(self, conversation_id, *, after: int | None):
        for frame in await messages_after(conversation_id, after):
            await self.send_json(frame)

    # Channel-layer events

    async def conversation_message(self, event):
        await self.send_json(event["message"])

    async def conversation_authentication(self, event):
        """Sign-ins are answered to the socket that sent them; nothing to relay."""

    async def conversation_closed(self, event):
        await self.send_json(
            {"type": "closed", "conversation": event["conversation"], "reason": event["reason"]}
        )
        await self.close(code=CLOSE_ENDED)


def in_cache_thread(function):
    """Run a function of the shared cache, which may be Redis, outside the event loop."""
    return sync_to_async(function, thread_sensitive=False)


# Database steps, each in Channels' database thread.


@database_sync_to_async
def load_widget(widget_id: str):
    widget = ChannelInstance.find_widget(widget_id)
    if widget is None:
        return None, []
    return widget, origins.deployment_domains(widget)


@database_sync_to_async
def get_deployment(deployment_id: str):
    from messaging.models import Deployment

    return Deployment.objects.get(deployment_id=deployment_id)


@database_sync_to_async
def variable_types_of(workstream_id: int) -> dict[str, str]:
    from workstreams.models import ContextVariable

    return dict(
        ContextVariable.objects.filter(workstream_id=workstream_id).values_list("name", "type")
    )


@database_sync_to_async
def find_resumable(widget, conversation_id: str, resume_token: str):
    if not is_uuid(conversation_id):
        return None
    conversation = (
        Conversation.objects.filter(pk=conversation_id, channel_instance=widget)
        .exclude(status=Conversation.Status.CLOSED)
        .first()
    )
    if conversation is None or not actions.resume_token_matches(conversation, resume_token):
        return None
    return conversation


@database_sync_to_async
def get_conversation(conversation_id):
    return Conversation.objects.get(pk=conversation_id)


@database_sync_to_async
def messages_after(conversation_id, after: int | None) -> list[dict]:
    messages = Message.objects.filter(conversation_id=conversation_id).order_by("id")
    if after is not None:
        messages = messages.filter(id__gt=after)
    return [message_frame(message) for message in messages]


@database_sync_to_async
def post_visitor_message(conversation_id, text: str) -> None:
    conversation = Conversation.objects.get(pk=conversation_id)
    actions.do_post_message(conversation, sender=Message.Sender.VISITOR, text=text)
