"""The README's Node program, run as written against the platform: a signed-in customer chats
through the transport SDK from a native app's place (no Origin) and a dropped connection
loses and repeats nothing."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from contactcenter.management.commands.demo import DEMO_CONTACT_ID
from messaging import actions
from messaging.models import Conversation
from tests.sdk.links import link_to
from tests.sdk.node import readme_chat

HELLO = "Hello from the app"
OFFLINE = "Written while the network was down"
REPLY = "Welcome back, Dana"
LAST = "Thanks!"


def test_the_readme_example_chats_as_the_signed_in_customer_across_a_dropped_connection(demo):
    with (
        link_to(urlsplit(demo).port) as link,
        readme_chat(link, "readme-chat.mjs") as chat,
    ):
        started = json.loads(chat.expect("started ").removeprefix("started "))
        assert started["authenticated"] is True
        conversation = Conversation.objects.get(pk=started["conversation"])
        assert conversation.contact_id == DEMO_CONTACT_ID
        chat.type(HELLO)
        chat.expect(f"visitor: {HELLO}")

        link.cut()
        chat.expect("reconnecting ")
        chat.type(OFFLINE)
        agent = conversation.queue.agents.get()
        actions.do_accept_conversation(conversation.pk, acting_user=agent)
        actions.do_post_message(conversation.pk, sender="agent", text=REPLY, acting_user=agent)
        # An attempt fails while the network is down (the link hangs up on it, which Node 20's
        # WebSocket answers with silence until the transport gives up on it).
        chat.expect("reconnecting ")
        link.mend()

        chat.expect("resumed ")
        chat.expect(f"visitor: {OFFLINE}")
        chat.type(LAST)
        chat.expect(f"visitor: {LAST}")

    said = [line for line in chat.lines if ": " in line and not line.startswith("system")]
    assert said == [
        f"visitor: {HELLO}",
        f"agent: {REPLY}",
        f"visitor: {OFFLINE}",
        f"visitor: {LAST}",
    ]
    stored = conversation.messages.exclude(sender="system").order_by("id")
    assert [message.text for message in stored] == [HELLO, REPLY, OFFLINE, LAST]
