"""Resume tokens of the further sockets that continue a conversation.

A conversation keeps only the hash of the resume token its first socket was given
(`Conversation.resume_token_hash`). Another device that continues it (persistent
conversations) gets a token of its own, `<nonce>.<mac>`: a keyed hash of the conversation, that
stored hash and a fresh nonce. It stays valid exactly as long as the first one (closing the
conversation clears the hash), and handing one out takes nothing from the other devices.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from django.utils.crypto import salted_hmac

from messaging.models import Conversation

SALT = "messaging.resume_tokens.device"
NONCE_BYTES = 16


def issue(conversation: Conversation) -> str:
    """A new resume token for one more socket of an open conversation."""
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    return f"{nonce}.{_mac(conversation, nonce)}"


def matches(conversation: Conversation, token: str) -> bool:
    """Whether the token is one issue() gave for the conversation while it is open."""
    nonce, dot, mac = token.partition(".")
    if not (dot and nonce and conversation.resume_token_hash):
        return False
    return hmac.compare_digest(mac, _mac(conversation, nonce))


def _mac(conversation: Conversation, nonce: str) -> str:
    message = f"{conversation.pk}.{conversation.resume_token_hash}.{nonce}"
    digest = salted_hmac(SALT, message, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
