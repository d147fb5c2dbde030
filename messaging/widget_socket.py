"""The chat widget's socket (`/ws/widget/<widget_id>/`), as CONTRACT.md describes it."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from authsettings.tokens import VerifiedToken
from contactcenter import metrics
from contactcenter.lib.identifiers import is_uuid
from messaging import (
    actions,
    conversations,
    customer_sessions,
    decisions,
    origins,
    ratelimits,
    start_cache,
)
from messaging.frames import (
    CLOSE_AUTHENTICATION,
    CLOSE_BAD_FRAME,
    CLOSE_ENDED,
    CLOSE_FORBIDDEN,
    CLOSE_RATE_LIMITED,
    FrameConsumer,
    FrameRefused,
    check_message_text,
    client_address,
    scope_header,
)
from messaging.presence import presence

START_TIMEOUT_SECONDS = 10
MESSAGE_BURST = 20
MESSAGE_ID = re.compile(r"[0-9]{1,18}")

CLOSE_CODES = {
    "bad_frame": CLOSE_BAD_FRAME,
    "origin_not_allowed": CLOSE_FORBIDDEN,
    "deployment_inactive": CLOSE_FORBIDDEN,
    "workstream_unavailable": CLOSE_FORBIDDEN,
    "rate_limited": CLOSE_RATE_LIMITED,
}


@metrics.open_sockets("widget")
class VisitorConsumer(FrameConsumer):
    """The chat widget's socket: start or resume, then messages and mid-chat sign-ins; asks
    for a fresh session token before a code-flow sign-in lapses. `clock` tells the time in
    Unix seconds."""

    def __init__(self, *args, clock: Callable[[], float] = time.time, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock

    async def connect(self):
        self.widget = None
        self.deployment = None
        self.routing = None
        self.reauthenticate_timer = None
        self.conversation_id = None
        self.started = False
        self.refused = False
        self.counted = False
        self.bucket = ratelimits.TokenBucket(settings.CC_WIDGET_MESSAGES_PER_SECOND, MESSAGE_BURST)
        self.client = client_address(self.scope)
        self.own_origin = origins.socket_own_origin(self.scope)
        # Of its handshake's headers, only the Origin is read from now on: a socket held open
        # for a whole chat keeps no others (in place: the server holds the same list).
        headers = self.scope["headers"]
        if isinstance(headers, list):
            headers[:] = [(name, value) for name, value in headers if name == b"origin"]
        await self.accept()
        self.start_deadline = asyncio.get_running_loop().call_later(
            START_TIMEOUT_SECONDS, self.expire_start
        )
        if self.own_origin is None:
            await self.refuse(
                "origin_not_allowed",
                "This address is not the platform's; connect to the one the snippet loads from.",
            )
        elif await off_the_loop(ratelimits.open_socket)(self.client):
            self.counted = True
        else:
            await self.refuse("rate_limited", "Too many chats are open from here; close one.")

    async def disconnect(self, code):
        self.start_deadline.cancel()
        self.cancel_reauthenticate()
        try:
            if self.counted:
                await off_the_loop(ratelimits.close_socket)(self.client)
        finally:  # the shared cache may be away a moment: the socket still leaves its chat
            if self.conversation_id:
                conversation_id = self.conversation_id
                await self.stop_listening()
                presence.leave(conversation_id)

    def expire_start(self) -> None:
        """No first frame in time. A timer's callback, not a task sleeping: a cancelled timer
        lets go of everything, a cancelled task keeps its frames while the socket lives."""
        self.expiry = asyncio.ensure_future(
            self.refuse("bad_frame", "Send a start frame within 10 seconds.")
        )

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

    @decisions.judged(decisions.CHAT_START)
    async def frame_start(self, content):
        token = content.get("token")
        if token is not None and not isinstance(token, str):
            raise FrameRefused("bad_frame", "The token is a string or null.")
        verified = await self.admitted_and_verified(content.get("deployment_id"), token)
        # The socket listens to a new conversation before it is stored: what is said in it
        # afterwards reaches the socket, and its transcript so far comes back as stored.
        new_id = uuid.uuid4()
        await self.listen(new_id)
        try:
            started = await in_database(customer_sessions.arrive)(
                self.widget, self.deployment, verified, new_id=new_id, routing=self.routing
            )
        except Exception:
            await self.stop_listening()
            raise
        if started.conversation.pk != new_id:  # the customer's open conversation, continued
            await self.stop_listening()
        await self.enter(
            started.conversation,
            {"type": "started", "resume_token": started.resume_token},
            transcript=started.transcript,
        )

    async def frame_resume(self, content):
        conversation_id = content.get("conversation")
        resume_token = content.get("resume_token")
        after = content.get("after")
        if not isinstance(conversation_id, str) or not isinstance(resume_token, str):
            raise FrameRefused("bad_frame", "A resume frame has a conversation and a resume_token.")
        if after is not None and not (isinstance(after, str) and MESSAGE_ID.fullmatch(after)):
            raise FrameRefused("bad_frame", '"after" is the id of a message.')
        if scope_header(self.scope, "origin") is None:
            conversation = await self.resume_in_app(conversation_id, resume_token)
        else:
            await self.admit(None)
            await off_the_loop(self.count_start)()
            conversation = await in_database(conversations.check_resume)(
                self.widget, conversation_id, resume_token
            )
        await self.enter(conversation, {"type": "resumed"}, after=int(after) if after else None)

    # Frames after start

    async def frame_message(self, content):
        text = content.get("text")
        check_message_text(text)
        if not self.bucket.take():
            raise FrameRefused("rate_limited", "Messages are arriving too fast; slow down.")
        await in_database(conversations.post_visitor_message)(self.conversation_id, text)

    @decisions.judged("authenticate")
    async def frame_authenticate(self, content):
        if not await in_database(customer_sessions.may_authenticate)(
            self.widget, self.conversation_id
        ):
            raise FrameRefused("upgrade_not_allowed", "This chat does not take a sign-in mid-chat.")
        if not self.bucket.take():
            raise FrameRefused("rate_limited", "Sign-ins are arriving too fast; slow down.")
        token = content.get("token")
        if not isinstance(token, str) or not token:
            raise FrameRefused("token_missing", "Send the signed-in customer's token.")
        arrival = await self.arrival(token)
        conversation = await in_database(conversations.authenticate_conversation)(
            self.conversation_id, arrival
        )
        await self.send_json(
            {
                "type": "authenticated",
                "conversation": str(conversation.pk),
                "authenticated": True,
            }
        )
        self.schedule_reauthenticate(conversation.authenticated_until)

    # Steps

    async def admitted_and_verified(self, deployment_id, token: str | None) -> VerifiedToken | None:
        """Admit the start (see admit), count it (see count_start) and check its token (see
        verified). While this process keeps the widget's reads (messaging.start_cache), the
        three take one trip off the event loop, unless the token's check reads the database;
        the widget's admission is then kept from that thread, while the socket waits on it."""
        deployment_id = checked_deployment_id(deployment_id)
        widget_id = self.scope["url_route"]["kwargs"]["widget_id"]

        def if_kept(now: float) -> tuple[bool, VerifiedToken | None]:
            reads = start_cache.kept_widget(widget_id)
            if reads is None:
                return False, None
            self.take_reads(reads, deployment_id)
            self.count_start()
            if not token or self.token_reads_database(token):
                return True, None
            return True, conversations.verify_token(self.widget, token, now=now)

        kept, verified = await off_the_loop(if_kept)(time.time())
        if not kept:
            await self.admit(deployment_id)
            return await self.counted_and_verified(token)
        if self.token_reads_database(token):
            return await self.verified(token)
        return verified

    async def admit(self, deployment_id):
        """Load the widget (and its workstream's routing, for the start) and check the page's
        origin (see take_reads). Raises Refused."""
        widget_id = self.scope["url_route"]["kwargs"]["widget_id"]
        reads = await in_database(conversations.find_widget)(widget_id)
        self.take_reads(reads, checked_deployment_id(deployment_id))

    def take_reads(self, reads: start_cache.WidgetReads, deployment_id: str | None) -> None:
        """Check the page's origin against the widget's deployments and keep the widget, the
        deployment the page matched (None on the platform's own pages) and its routing.
        Raises Refused."""
        self.widget = reads.widget  # known to a refusal of the origin
        self.routing = reads.routing
        matched = origins.check_origin(
            scope_header(self.scope, "origin"),
            own=self.own_origin,
            deployments=reads.deployments,
            deployment_id=deployment_id,
        )
        self.deployment = (
            None if matched is None else reads.deployment_rows[str(matched.deployment_id)]
        )

    async def resume_in_app(self, conversation_id: str, resume_token: str):
        """The conversation a native app (no Origin) resumes: one started through a deployment
        that still allows mobile apps and is active. Raises Refused."""
        widget_id = self.scope["url_route"]["kwargs"]["widget_id"]
        reads = await in_database(conversations.find_widget)(widget_id)
        self.widget = reads.widget
        await off_the_loop(self.count_start)()
        conversation = await in_database(conversations.check_resume)(
            self.widget, conversation_id, resume_token
        )
        deployment_id = await in_database(conversations.find_deployment_id)(conversation)
        if deployment_id is None:
            raise origins.OriginRefused(
                "origin_not_allowed", "This conversation started on a web page; resume it there."
            )
        origins.check_app(reads.deployments, deployment_id)
        return conversation

    def count_start(self) -> None:
        """Count a start or a resume against the address's limit (in the shared cache: off the
        event loop). Raises FrameRefused."""
        if not ratelimits.allow_start(self.client, settings.CC_WIDGET_STARTS_PER_MINUTE):
            raise FrameRefused("rate_limited", "Too many chats started from here; wait a minute.")

    async def verified(self, token: str | None):
        """The token checked (None without one): a code-flow session token against its
        sign-in's record, on the database thread; any other as CPU work, on a thread of its
        own. Raises Refused: the token's code."""
        if not token:
            return None
        check = in_database if self.token_reads_database(token) else off_the_loop
        return await check(conversations.verify_token)(self.widget, token, now=time.time())

    async def counted_and_verified(self, token: str | None):
        """Count the start (see count_start), then check its token (see verified): both in one
        trip off the event loop, unless the check reads the database."""
        if self.token_reads_database(token):
            await off_the_loop(self.count_start)()
            return await self.verified(token)

        def count_and_verify(now: float):
            self.count_start()
            return conversations.verify_token(self.widget, token, now=now) if token else None

        return await off_the_loop(count_and_verify)(time.time())

    def token_reads_database(self, token: str | None) -> bool:
        return bool(token) and conversations.token_reads_database(self.widget)

    async def arrival(self, token: str | None) -> conversations.Arrival:
        """Who arrives with the token (anonymous without one). Raises Refused: the
        token's code, `token_missing` or `context_invalid`."""
        verified = await self.verified(token)
        return await in_database(conversations.check_arrival)(self.widget, verified)

    async def enter(
        self,
        conversation,
        frame: dict,
        *,
        after: int | None = None,
        transcript: list[dict] | None = None,
    ) -> None:
        """Join the conversation, answer the first frame (`started` or `resumed`), then send
        its messages: `transcript` (a new conversation's, stored while the socket listened) or
        else those after `after` (all of them without it), read once the socket listens. All of
        it goes out before the socket's next frame is read, so the answer to that frame marks
        the end of the replay (the transport SDK relies on it)."""
        await self.join(conversation)
        await self.send_json(
            {
                **frame,
                "conversation": str(conversation.pk),
                "authenticated": conversation.authenticated_now,
            }
        )
        if transcript is None:
            transcript = await in_database(conversations.transcript)(conversation.pk, after=after)
        for message in transcript:
            await self.send_json(message)
        self.schedule_reauthenticate(conversation.authenticated_until)

    async def join(self, conversation):
        self.started = True
        self.start_deadline.cancel()
        if self.conversation_id != conversation.pk:
            await self.listen(conversation.pk)
        await presence.enter(conversation)

    async def listen(self, conversation_id) -> None:
        """Hear the conversation's events."""
        self.conversation_id = conversation_id
        await self.channel_layer.group_add(
            actions.conversation_group(conversation_id), self.channel_name
        )

    async def stop_listening(self) -> None:
        await self.channel_layer.group_discard(
            actions.conversation_group(self.conversation_id), self.channel_name
        )
        self.conversation_id = None

    def schedule_reauthenticate(self, until: datetime | None) -> None:
        """Ask for a fresh session token ahead of `until`, when the sign-in lapses (replacing
        any earlier request not yet sent)."""
        self.cancel_reauthenticate()
        delay = customer_sessions.reauthenticate_delay(until, now=self.clock())
        if delay is not None:
            self.reauthenticate_timer = asyncio.create_task(self.reauthenticate(until, delay))

    async def reauthenticate(self, until: datetime, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.send_json(customer_sessions.reauthenticate_frame(until, now=self.clock()))

    def cancel_reauthenticate(self) -> None:
        if self.reauthenticate_timer is not None:
            self.reauthenticate_timer.cancel()

    # Channel-layer events

    async def conversation_message(self, event):
        await self.send_json(event["message"])

    async def conversation_authentication(self, event):
        """Sign-ins are answered to the socket that sent them; one through another socket of
        the conversation moves when this one asks for a fresh session token."""
        until = event.get("authenticated_until")
        self.schedule_reauthenticate(datetime.fromisoformat(until) if until else None)

    async def conversation_closed(self, event):
        await self.send_json(
            {"type": "closed", "conversation": event["conversation"], "reason": event["reason"]}
        )
        await self.close(code=CLOSE_ENDED)


def checked_deployment_id(deployment_id) -> str | None:
    """The start frame's deployment_id in its canonical form. Raises FrameRefused."""
    if deployment_id is None:
        return None
    if not is_uuid(deployment_id):
        raise FrameRefused("bad_frame", "The deployment_id is a UUID.")
    return str(uuid.UUID(deployment_id))


def off_the_loop(function):
    """Run blocking work (the shared cache, which may be Redis; signature checks) outside the
    event loop and Channels' database thread."""
    return sync_to_async(function, thread_sensitive=False)


in_database = database_sync_to_async
