"""A message sent through the transport SDK just as the connection dies is stored once: sent
again when it was lost on the way, not again when only its echo was. The README's Node program
chats through a link on loopback that loses what it carries one way, then is cut."""

from __future__ import annotations

from urllib.parse import urlsplit

from messaging.models import Message
from tests.sdk.links import DOWN, UP, link_to
from tests.sdk.node import WAIT_SECONDS, readme_chat

HELLO = "Hello from the app"
LOST_ON_THE_WAY = "Sent as the network failed"
ECHO_LOST = "Stored, but the answer was lost"
LAST = "Still there?"


def drop_while_sending(chat, link, text: str, losing: str) -> None:
    """Send `text` while the link loses what goes `losing`, cut the link once something was
    lost, and mend it."""
    link.lose(losing)
    chat.type(text)
    assert link.lost.wait(WAIT_SECONDS)
    link.cut()
    chat.expect("reconnecting ")
    link.mend()
    chat.expect("resumed ")


def test_a_message_sent_as_the_connection_dies_is_stored_once(demo):
    with (
        link_to(urlsplit(demo).port) as link,
        readme_chat(link, "dropped-chat.mjs") as chat,
    ):
        chat.expect("started ")
        chat.type(HELLO)
        chat.expect(f"visitor: {HELLO}")

        drop_while_sending(chat, link, LOST_ON_THE_WAY, losing=UP)
        assert not Message.objects.filter(text=LOST_ON_THE_WAY).exists()
        chat.expect(f"visitor: {LOST_ON_THE_WAY}")

        drop_while_sending(chat, link, ECHO_LOST, losing=DOWN)
        chat.expect(f"visitor: {ECHO_LOST}")

        chat.type(LAST)
        chat.expect(f"visitor: {LAST}")

    said = [line for line in chat.lines if line.startswith("visitor: ")]
    assert said == [f"visitor: {text}" for text in (HELLO, LOST_ON_THE_WAY, ECHO_LOST, LAST)]
    stored = Message.objects.filter(sender="visitor").order_by("id")
    assert [message.text for message in stored] == [HELLO, LOST_ON_THE_WAY, ECHO_LOST, LAST]
