"""The agent console's socket (`/ws/agent/`): queues, accepting and chatting."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user

from contactcenter import metrics
from contactcenter.lib.database_threads import in_database
from contactcenter.lib.identifiers import is_uuid
from messaging import actions, conversations, origins
from messaging.agent_rights import agent_group, is_agent, session_digest
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

    Rights are read from the session afresh at connect, before each frame, when the agent's
    group is told they changed (messaging.agent_rights) and before forwarding an event when the
    last read is RIGHTS_RECHECK_SECONDS old; once they are gone the socket gets an error frame and
    closes with 4403. `clock` tells the time in seconds for that interval.
    """

    frame_types = frozenset({"accept", "message", "close", "request_authentication"})

    def __init__(self, *args, clock: Callable[[], float] = time.monotonic, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = clock
        self.rights_read_at = clock()

    async def connect(self):
        self.session_key: str | None = self.scope["session"].session_key
        self.groups_joined: set[str] = set()
        self.queue_ids: set[int] = set()
        self.conversation_ids: set[str] = set()
        await self.accept()
        self.user = await current_agent(self.session_key)
        self.rights_read_at = self.clock()
        if self.user is None:
            await self.revoke(NOT_AN_AGENT)
            return
        await self.join(agent_group(self.user.pk))
        await self.follow_queues()
        # The agent's open conversations first: by the queue frame, a reconnecting console
        # knows every conversation still open.
        for summary, messages in await active_conversations_of(self.user):
            await self.follow(summary["id"])
            await self.send_json(
                {"type": "accepted", "conversation": summary, "messages": messages}
            )
        await self.send_queue()

    async def disconnect(self, code):
        await self.leave_groups()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if await self.still_an_agent():
            await super().receive(text_data, bytes_data, **kwargs)

    async def still_an_agent(self) -> bool:
        """Whether the session still holds an agent; if not, the socket is closed."""
        self.user = await current_agent(self.session_key)
        self.rights_read_at = self.clock()
        if self.user is None:
            await self.revoke(SIGNED_OUT)
        return self.user is not None

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

    async def follow(self, conversation_id: str) -> None:
        self.conversation_ids.add(conversation_id)
        await self.join(actions.conversation_group(conversation_id))

    def own_conversation(self, content) -> str:
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, str) or conversation_id not in self.conversation_ids:
            raise FrameRefused("not_found", actions.ACCEPT_FIRST)
        return conversation_id

    async def frame_accept(self, content):
        conversation_id = content.get("conversation")
        if not is_uuid(conversation_id):
            raise FrameRefused("bad_frame", "Name the conversation to accept.")
        summary, messages = await accept(conversation_id, self.user)
        await self.follow(summary["id"])
        await self.send_json({"type": "accepted", "conversation": summary, "messages": messages})

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

    async def conversation_message(self, event):
        await self.forward({**event["message"], "conversation": event["conversation"]})

    async def conversation_authentication(self, event):
        await self.forward({**event, "type": "authentication"})

    async def conversation_delivery(self, event):
        await self.forward({**event, "type": "delivery"})

    async def conversation_typing(self, event):
        await self.forward({**event, "type": "typing"})

    async def conversation_error(self, event):
        await self.forward({**event, "type": "error"})

    async def conversation_closed(self, event):
        if not await self.may_forward():
            return
        conversation_id = event["conversation"]
        await self.send_json({"type": "closed", "conversation": conversation_id})
        self.conversation_ids.discard(conversation_id)
        await self.leave(actions.conversation_group(conversation_id))


@in_database
def current_agent(session_key: str | None):
    """The agent the session holds now, or None. The session is read afresh from its store:
    the scope's copy would still hold a user who has signed out since. Django's `get_user`
    checks the session's auth hash against the user's, so a session from before a password
    change holds no one (and is flushed)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=session))
    return user if is_agent(user) else None


queue_ids_of = in_database(conversations.queue_ids_of)
waiting_summaries = in_database(partial(conversations.waiting_summaries, limit=MAX_QUEUE_FRAME))
active_conversations_of = in_database(conversations.active_conversations_of)
accept = in_database(conversations.accept_conversation)
post_agent_message = in_database(conversations.post_agent_message)
close_conversation = in_database(conversations.close_agent_conversation)
request_authentication = in_database(conversations.request_agent_authentication)
