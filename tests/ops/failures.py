"""Waiting for the failure log's writer, and reading what it wrote."""

from __future__ import annotations

import time

from messaging import failure_log
from messaging.models import SignInFailure
from tests.keyserver import claims, make_token

WRITE_SECONDS = 10
SUBJECT = "customer-subject-7f3a"
KID = "portal-2026"


def signed(keys, **overrides) -> str:
    """A token of the portal's signing key naming KID (a single PEM key ignores it)."""
    return make_token(keys.signing, claims(time.time(), sub=SUBJECT, **overrides), kid=KID)


def expired(keys) -> str:
    return signed(keys, exp=1, iat=0)


def written() -> list[SignInFailure]:
    """Every failure queued so far, once the writer has stored it; newest first."""
    assert failure_log.recorder.wait_until_written(WRITE_SECONDS)
    return list(SignInFailure.objects.all())
