"""The agent console's socket (`/ws/agent/`): queues, accepting and chatting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from functools import partial

from channels.db import database_sync_to_async

from contactcenter import metrics
from contactcenter.lib.identifiers import is_uuid
from messaging import actions, agent_rights, conversations, origins
from messaging.agent_rights import AgentSession, agent_group, session_digest
from messaging.frames import (
    CLOSE_FORBIDDEN,
    FrameConsumer,
    FrameRefused,
    check_message_text,
)

# The first `queue` frame lists this many waiting conversations at most, the most urgent.
MAX_QUEUE_FRAME = 200
# Rights read longer ago than this are read again before an event reaches the agent: a session
# can end with no sign-out to tell (it expires, `clearsessions` deletes it, a later sign-in in the
# same browser replaces it), and this bounds how long such a socket goes on hearing events.
RIGHTS_RECHECK_SECONDS = 30
NOT_AN_AGENT = "Sign in as an agent to use the console."
SIGNED_OUT = "You signed out, or are no longer an agent: sign in again to use the console."


@metrics.open_sockets("agent")
class AgentConsumer(FrameConsumer):
    """The agent console's socket (`/ws/agent/`): queues, accepting and chatting.

    Rights are checked against the session's store at connect, before each frame, when the
    agent's group is told they changed and before forwarding an event when the last check is
    RIGHTS_RECHECK_SECONDS old (messaging.agent_rights.agent_of_session); once they are gone the
    socket gets an error frame and closes with 4403. `clock` tells the time in seconds for that
    interval.
    """

    frame_types = frozenset({"accept", "message", "close", "request_authentication"})

    def __init__(self, *args, clock: Callable[[], float] = time.monotonic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.rights_read_at = clock()
        self.agent_session: AgentSession | None = None

    async def connect(self):
        self.session_key: str | None = self.scope["session"].session_key
        self.groups_joined: set[str] = set()
        self.queue_ids: set[int] = set()
        # The conversations the agent holds, each with the last message id of the transcript
        # sent with its `accepted` frame.
        self.held: dict[str, int] = {}
        await self.accept()
        if not await self.read_rights():
            await self.revoke(NOT_AN_AGENT)
            return
        await self.join(agent_group(self.user.pk))
        await self.follow_queues()
        # The agent's open conversations first: by the queue frame, a reconnecting console
        # knows every conversation still open. Listening starts before the transcripts are
        # read, so a message posted meanwhile is not missed (see frame_accept).
        listening = {actions.conversation_group(pk) for pk in await active_ids_of(self.user)}
        for group in listening:
            await self.join(group)
        for summary, messages in await active_conversations_of(self.user):
            await self.hold(summary, messages)
        for group in listening - self.groups_of_held():
            await self.leave(group)
        await self.send_queue()

    async def disconnect(self, code):
        await self.leave_groups()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if await self.still_an_agent():
            await super().receive(text_data, bytes_data, **kwargs)

    async def read_rights(self) -> bool:
        """Whether the session holds an agent now (`self.user`)."""
        self.agent_session = await agent_of_session(self.session_key, self.agent_session)
        self.rights_read_at = self.clock()
        self.user = self.agent_session.user if self.agent_session else None
        return self.user is not None

    async def still_an_agent(self) -> bool:
        """Whether the session still holds an agent; if not, the socket is closed."""
        if await self.read_rights():
            return True
        await self.revoke(SIGNED_OUT)
        return False

    async def may_forward(self) -> bool:
        """Whether an event may reach the agent: rights read less than RIGHTS_RECHECK_SECONDS
        ago are trusted, older ones are read again (and the socket closed if they are gone)."""
        if self.clock() - self.rights_read_at < RIGHTS_RECHECK_SECONDS:
            return True
        return await self.still_an_agent()

    async def revoke(self, detail: str) -> None:
        await self.leave_groups()
        await self.refuse("forbidden", detail)
        await self.close(code=CLOSE_FORBIDDEN)

    async def join(self, group: str) -> None:
        self.groups_joined.add(group)
        await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        self.groups_joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)

    async def leave_groups(self) -> None:
        for group in list(self.groups_joined):
            await self.leave(group)

    async def follow_queues(self) -> bool:
        """Hear exactly the agent's queues now; returns whether they changed."""
        queue_ids = set(await queue_ids_of(self.user))
        for queue_id in self.queue_ids - queue_ids:
            await self.leave(actions.queue_group(queue_id))
        for queue_id in queue_ids - self.queue_ids:
            await self.join(actions.queue_group(queue_id))
        changed = queue_ids != self.queue_ids
        self.queue_ids = queue_ids
        return changed

    async def send_queue(self) -> None:
        waiting = await waiting_summaries(sorted(self.queue_ids))
        await self.send_json({"type": "queue", "conversations": waiting})

    async def hold(self, summary: dict, messages: list[dict]) -> None:
        """The conversation is the agent's: its events reach the console from now on, less the
        messages of the transcript sent with it in `accepted`."""
        conversation_id = summary["id"]
        await self.join(actions.conversation_group(conversation_id))
        self.held[conversation_id] = max((int(m["id"]) for m in messages), default=0)
        await self.send_json({"type": "accepted", "conversation": summary, "messages": messages})

    def groups_of_held(self) -> set[str]:
        return {actions.conversation_group(pk) for pk in self.held}

    def own_conversation(self, content) -> str:
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, str) or conversation_id not in self.held:
            raise FrameRefused("not_found", actions.ACCEPT_FIRST)
        return conversation_id

    async def frame_accept(self, content):
        conversation_id = content.get("conversation")
        if not is_uuid(conversation_id):
            raise FrameRefused("bad_frame", "Name the conversation to accept.")
        # Listen before the transcript is read, so a message posted meanwhile is not missed;
        # its events are forwarded only once the conversation is the agent's, and not the
        # messages the transcript holds (conversation_message).
        conversation_id = str(uuid.UUID(conversation_id))
        group = actions.conversation_group(conversation_id)
        listening = group in self.groups_joined
        await self.join(group)
        try:
            summary, messages = await accept(conversation_id, self.user)
        except actions.ActionRefused:
            if not listening:
                await self.leave(group)
            raise
        await self.hold(summary, messages)

    async def frame_message(self, content):
        conversation_id = self.own_conversation(content)
        text = content.get("text")
        check_message_text(text)
        await post_agent_message(conversation_id, self.user, text)

    async def frame_close(self, content):
        conversation_id = self.own_conversation(content)
        await close_conversation(conversation_id, self.user)

    async def frame_request_authentication(self, content):
        conversation_id = self.own_conversation(content)
        rich_message = content.get("rich_message")
        if rich_message is not None and (
            not isinstance(rich_message, int) or isinstance(rich_message, bool)
        ):
            raise FrameRefused("bad_frame", "Name the rich message by its id.")
        platform_url = origins.socket_platform_url(self.scope)
        if platform_url is None:
            raise FrameRefused("forbidden", "This is not the platform's own address.")
        try:
            await request_authentication(conversation_id, self.user, rich_message, platform_url)
        except actions.ActionRefused as refusal:
            await self.send_json(
                {
                    "type": "error",
                    "code": refusal.code,
                    "detail": refusal.detail,
                    "conversation": conversation_id,
                }
            )

    # Channel-layer events

    async def agent_rights(self, event):
        if await self.still_an_agent() and await self.follow_queues():
            await self.send_queue()

    async def agent_signed_out(self, event):
        if event["session"] == session_digest(self.session_key):
            await self.revoke(SIGNED_OUT)

    async def forward(self, frame: dict) -> None:
        """Send an event's frame while the agent still has the rights to hear it."""
        if await self.may_forward():
            await self.send_json(frame)

    async def queue_waiting(self, event):
        await self.forward({"type": "waiting", "conversation": event["conversation"]})

    async def queue_taken(self, event):
        await self.forward({"type": "taken", "conversation": event["conversation"]})

    async def forward_about(self, event, frame: dict) -> None:
        """Forward an event about a conversation, while it is the agent's."""
        if event["conversation"] in self.held:
            await self.forward(frame)

    async def conversation_message(self, event):
        # A conversation's messages are numbered in the order its row lock lets them in.
        if int(event["message"]["id"]) > self.held.get(event["conversation"], 0):
            await self.forward_about(
                event, {**event["message"], "conversation": event["conversation"]}
            )

    async def conversation_authentication(self, event):
        await self.forward_about(event, {**event, "type": "authentication"})

    async def conversation_delivery(self, event):
        await self.forward_about(event, {**event, "type": "delivery"})

    async def conversation_typing(self, event):
        await self.forward_about(event, {**event, "type": "typing"})

    async def conversation_error(self, event):
        await self.forward_about(event, {**event, "type": "error"})

    async def conversation_closed(self, event):
        conversation_id = event["conversation"]
        if conversation_id not in self.held or not await self.may_forward():
            return
        await self.send_json({"type": "closed", "conversation": conversation_id})
        del self.held[conversation_id]
        await self.leave(actions.conversation_group(conversation_id))


agent_of_session = database_sync_to_async(agent_rights.agent_of_session)
queue_ids_of = database_sync_to_async(conversations.queue_ids_of)
waiting_summaries = database_sync_to_async(
    partial(conversations.waiting_summaries, limit=MAX_QUEUE_FRAME)
)
active_ids_of = database_sync_to_async(conversations.active_ids_of)
active_conversations_of = database_sync_to_async(conversations.active_conversations_of)
accept = database_sync_to_async(conversations.accept_conversation)
post_agent_message = database_sync_to_async(conversations.post_agent_message)
close_conversation = database_sync_to_async(conversations.close_agent_conversation)
request_authentication = database_sync_to_async(conversations.request_agent_authentication)
