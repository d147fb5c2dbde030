"""Waiting for the failure log's writer, and reading what it wrote."""

from __future__ import annotations

from messaging import failure_log
from messaging.models import SignInFailure

WRITE_SECONDS = 10


def written() -> list[SignInFailure]:
    """Every failure queued so far, once the writer has stored it; newest first."""
    assert failure_log.recorder.wait_until_written(WRITE_SECONDS)
    return list(SignInFailure.objects.all())
