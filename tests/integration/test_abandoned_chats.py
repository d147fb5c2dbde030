"""Server processes sweep abandoned chats at the same time: each chat is closed once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from messaging import actions
from messaging.models import ABANDONED_AFTER, Conversation, Message

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SWEEPERS = 3


def test_sweeps_running_at_once_close_each_abandoned_chat_once(chat):
    widget, _ = chat
    due = actions.SWEEP_BATCH * 2 + 10
    for _ in range(due):
        actions.do_start_conversation(
            widget, deployment=None, identity=None, context={}, dropped=[]
        )
    Conversation.objects.update(visitor_seen_at=timezone.now() - ABANDONED_AFTER * 2)
    all_ready = threading.Barrier(SWEEPERS)

    def sweep() -> int:
        try:
            all_ready.wait(timeout=10)
            return actions.do_close_abandoned_conversations(now=timezone.now())
        finally:
            connection.close()

    with ThreadPoolExecutor(SWEEPERS) as pool:
        counts = list(pool.map(lambda _: sweep(), range(SWEEPERS)))

    assert sum(counts) == due
    assert not Conversation.objects.exclude(status=Conversation.Status.CLOSED).exists()
    closings = Message.objects.filter(text__startswith="The customer left")
    assert closings.count() == due
    assert closings.values("conversation").distinct().count() == due
