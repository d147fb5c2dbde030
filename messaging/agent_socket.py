"""The agent console's socket (`/ws/agent/`): queues, accepting and chatting."""

from __future__ import annotations

from channels.db import database_sync_to_async

from messaging import actions
from messaging.frames import CLOSE_FORBIDDEN, FrameConsumer, Refusal, check_message_text, is_uuid
from messaging.models import AGENTS_GROUP, Conversation, Message
from messaging.summaries import conversation_summary, message_frame


class AgentConsumer(FrameConsumer):
    """The agent console's socket (`/ws/agent/`): queues, accepting and chatting."""

    frame_types = frozenset({"accept", "message", "close"})

    async def connect(self):
        self.user = self.scope.get("user")
        self.queue_ids: list[int] = []
        self.conversation_ids: set[str] = set()
        await self.accept()
        if not await is_agent(self.user):
            await self.refuse("forbidden", "Sign in as an agent to use the console.")
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.queue_ids = await queue_ids_of(self.user)
        for queue_id in self.queue_ids:
            await self.channel_layer.group_add(actions.queue_group(queue_id), self.channel_name)
        await self.send_json(
            {"type": "queue", "conversations": await waiting_summaries(self.queue_ids)}
        )
        for summary, messages in await active_conversations_of(self.user):
            await self.follow(summary["id"])
            await self.send_json(
                {"type": "accepted", "conversation": summary, "messages": messages}
            )

    async def disconnect(self, code):
        for queue_id in self.queue_ids:
            await self.channel_layer.group_discard(actions.queue_group(queue_id), self.channel_name)
        for conversation_id in self.conversation_ids:
            await self.channel_layer.group_discard(
                actions.conversation_group(conversation_id), self.channel_name
            )

    async def follow(self, conversation_id: str) -> None:
        self.conversation_ids.add(conversation_id)
        await self.channel_layer.group_add(
            actions.conversation_group(conversation_id), self.channel_name
        )

    def own_conversation(self, content) -> str:
        conversation_id = content.get("conversation")
        if not isinstance(conversation_id, str) or conversation_id not in self.conversation_ids:
            raise Refusal("not_found", "Accept the conversation first.")
        return conversation_id

    async def frame_accept(self, content):
        conversation_id = content.get("conversation")
        if not is_uuid(conversation_id):
            raise Refusal("bad_frame", "Name the conversation to accept.")
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

    # Channel-layer events

    async def queue_waiting(self, event):
        await self.send_json({"type": "waiting", "conversation": event["conversation"]})

    async def queue_taken(self, event):
        await self.send_json({"type": "taken", "conversation": event["conversation"]})

    async def conversation_message(self, event):
        await self.send_json({**event["message"], "conversation": event["conversation"]})

    async def conversation_authentication(self, event):
        await self.send_json({**event, "type": "authentication"})

    async def conversation_closed(self, event):
        conversation_id = event["conversation"]
        await self.send_json({"type": "closed", "conversation": conversation_id})
        self.conversation_ids.discard(conversation_id)
        await self.channel_layer.group_discard(
            actions.conversation_group(conversation_id), self.channel_name
        )


# Database steps, each in Channels' database thread.


@database_sync_to_async
def post_agent_message(conversation_id, agent, text: str) -> None:
    conversation = Conversation.objects.get(pk=conversation_id, agent=agent)
    actions.do_post_message(conversation, sender=Message.Sender.AGENT, text=text, author=agent)


@database_sync_to_async
def close_conversation(conversation_id, agent) -> None:
    conversation = Conversation.objects.get(pk=conversation_id, agent=agent)
    actions.do_close_conversation(conversation, by=agent)


@database_sync_to_async
def is_agent(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.groups.filter(name=AGENTS_GROUP).exists()
    )


@database_sync_to_async
def queue_ids_of(user) -> list[int]:
    return list(user.queues.values_list("id", flat=True))


def summaries_of(conversations) -> list[dict]:
    return [conversation_summary(conversation) for conversation in conversations]


def with_relations(queryset):
    return queryset.select_related(
        "channel_instance__workstream", "queue", "contact"
    ).prefetch_related("channel_instance__workstream__context_variables")


@database_sync_to_async
def waiting_summaries(queue_ids: list[int]) -> list[dict]:
    waiting = with_relations(
        Conversation.objects.filter(queue_id__in=queue_ids, status=Conversation.Status.WAITING)
    ).order_by("-priority", "created_at")
    return summaries_of(waiting)


def transcript(conversation) -> list[dict]:
    return [message_frame(message) for message in conversation.messages.order_by("id")]


@database_sync_to_async
def active_conversations_of(user) -> list[tuple[dict, list[dict]]]:
    active = with_relations(
        Conversation.objects.filter(agent=user, status=Conversation.Status.ACTIVE)
    ).order_by("created_at")
    return [(conversation_summary(c), transcript(c)) for c in active]


@database_sync_to_async
def accept(conversation_id: str, user) -> tuple[dict, list[dict]]:
    conversation = actions.do_accept_conversation(conversation_id, agent=user)
    return conversation_summary(conversation), transcript(conversation)
