"""The conversation service: what the ways into a conversation (the widget's and the agent's
sockets, and any other channel) ask of conversations. Each `check_*` finds and validates what
its write in messaging.actions (`do_*`) is given; the reads return what sockets send. Plain
synchronous functions: consumers run them on Channels' database thread."""

from __future__ import annotations

from messaging import actions
from messaging.models import Conversation, Message
from messaging.summaries import conversation_summary, message_frame

NOT_IN_YOUR_QUEUES = "No such conversation in your queues."


def transcript(conversation: Conversation) -> list[dict]:
    return [message_frame(message) for message in conversation.messages.order_by("id")]


def waiting_summaries(queue_ids, *, limit: int) -> list[dict]:
    """The most urgent `limit` waiting conversations of the queues, summarized."""
    waiting = Conversation.objects.waiting_in(queue_ids).with_summary_relations()[:limit]
    return [conversation_summary(conversation) for conversation in waiting]


def active_conversations_of(agent) -> list[tuple[dict, list[dict]]]:
    """The agent's open conversations, each summarized with its transcript."""
    active = Conversation.objects.active_with(agent).with_summary_relations()
    return [(conversation_summary(c), transcript(c)) for c in active]


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
    return conversation_summary(conversation), transcript(conversation)


def post_agent_message(conversation_id: str, agent, text: str) -> None:
    conversation = check_agent_conversation(conversation_id, agent)
    actions.do_post_message(conversation, sender=Message.Sender.AGENT, text=text, acting_user=agent)


def close_agent_conversation(conversation_id: str, agent) -> None:
    actions.do_close_conversation(
        check_agent_conversation(conversation_id, agent), acting_user=agent
    )
