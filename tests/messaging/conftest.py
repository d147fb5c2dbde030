"""Fixtures of the messaging tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def on_duty(request, bob, workstream):
    """bob, an agent on every queue of the workstream: with the VIP queue too when the test
    also uses `chat`, which is then made first whatever the order of the test's arguments."""
    if "chat" in request.fixturenames:
        request.getfixturevalue("chat")
    bob.queues.add(*workstream.queues.all())
    return bob
