"""The sign-in failure log: every refused chat start or sign-in, kept CC_FAILURE_LOG_DAYS days
for the administrator's failure panel and the API's `failures` (CONTRACT.md).

`record` never slows or fails the start it records: it puts the failure on an in-process
queue that one writer thread drains into the database in batches. A full queue or a failing
database drops failures (counted in `cc_failure_log_dropped_total` and logged), never the
start. Inside a transaction the failure is queued once it commits, so the writer never waits
on a row the caller is still writing.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from authsettings import setting_check, tokens
from contactcenter import metrics

logger = logging.getLogger(__name__)

QUEUE_CAPACITY = 10_000
BATCH = 500
PURGE_EVERY = timedelta(hours=1)
LATEST = 10
MAX_DETAIL = 1000
MAX_LABEL = 255

# The tester shows, for each step of tokens.STEPS, the fix of its failure; a code several
# steps give is shown with the fix of the first of them a page's developer meets.
TOKEN_STEP_OF_CODE = {
    "token_missing": "size",
    "token_too_large": "size",
    "token_malformed": "format",
    "token_invalid": "signature",
    "key_unavailable": "key",
    "unknown_kid": "key",
    "claims_missing": "required claims",
    "claims_invalid": "claim types",
    "token_expired": "exp",
    "token_not_yet_valid": "nbf and iat",
    "issuer_mismatch": "iss",
}
OTHER_FIXES = {
    "context_invalid": setting_check.FIX_CONTEXT,
    "origin_not_allowed": "Add the page's domain to the deployment's allowed domains, or load "
    "the snippet from a page on one of them.",
    "deployment_inactive": "Activate the deployment, or use the snippet of an active one.",
    "workstream_unavailable": "Give the workstream a default queue, or a routing rule that "
    "takes these conversations.",
    "rate_limited": "Nothing to change on the setting: one address started too many chats; "
    "CC_WIDGET_STARTS_PER_MINUTE sets the limit.",
    "token_revoked": "The customer signed out or the sign-in lapsed; the page should sign in "
    "again.",
}


def fix_for(code: str) -> str:
    """The sentence the setting's tester gives to fix a refusal with this code ("" if none)."""
    if code in OTHER_FIXES:
        return OTHER_FIXES[code]
    step_name = TOKEN_STEP_OF_CODE.get(code)
    for step in tokens.STEPS:
        if step.name == step_name:
            return step.fix_for(tokens.TokenRefused(code, ""))
    return ""


@dataclass(frozen=True)
class Failure:
    """A refused start or sign-in, as stored: ids of the records involved, and what the
    token said of its key and issuer (unverified) — never the token or its subject."""

    at: datetime
    way: str
    code: str
    detail: str
    setting_id: int | None
    channel_instance_id: int | None = None
    deployment_id: int | None = None
    origin_host: str = ""
    kid: str = ""
    iss: str = ""


def failure(
    way: str,
    code: str,
    detail: str,
    *,
    setting_id: int | None,
    channel_instance_id: int | None = None,
    deployment_id: int | None = None,
    origin: str | None = None,
    token: object = None,
    at: datetime | None = None,
) -> Failure:
    kid, iss = unverified_kid_and_issuer(token)
    return Failure(
        at=at or timezone.now(),
        way=way,
        code=code[:64],
        detail=detail[:MAX_DETAIL],
        setting_id=setting_id,
        channel_instance_id=channel_instance_id,
        deployment_id=deployment_id,
        origin_host=host_of(origin),
        kid=kid,
        iss=iss,
    )


def record(entry: Failure) -> None:
    """Queue a failure for the writer; returns at once and never raises."""
    try:
        if connection.in_atomic_block:
            transaction.on_commit(partial(recorder.put, entry))
        else:
            recorder.put(entry)
    except Exception:
        logger.exception("A refused sign-in could not be queued for the failure log")
        metrics.FAILURES_DROPPED.inc()


def host_of(origin: str | None) -> str:
    if not origin:
        return ""
    try:
        return (urlsplit(origin).hostname or "")[:MAX_LABEL]
    except ValueError:
        return ""


def unverified_kid_and_issuer(token: object) -> tuple[str, str]:
    """The header's kid and the payload's iss of a compact JWT, unverified and cut to length;
    empty where there is none or the token cannot be read."""
    if not isinstance(token, str) or len(token) > tokens.MAX_TOKEN_BYTES:
        return "", ""
    segments = token.split(".")
    if len(segments) != 3:
        return "", ""
    return _member(segments[0], "kid"), _member(segments[1], "iss")


def unverified_member(token: object, name: str) -> str:
    """A string member of a compact JWT's payload, unverified; empty where there is none."""
    if not isinstance(token, str) or len(token) > tokens.MAX_TOKEN_BYTES:
        return ""
    segments = token.split(".")
    return _member(segments[1], name) if len(segments) == 3 else ""


def _member(segment: str, name: str) -> str:
    try:
        value = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return ""
    member = value.get(name) if isinstance(value, dict) else None
    return member[:MAX_LABEL] if isinstance(member, str) else ""


class Recorder:
    """The process's failure queue and the thread that writes it, started on first use."""

    def __init__(self, capacity: int = QUEUE_CAPACITY) -> None:
        self.queue: queue.Queue[Failure] = queue.Queue(capacity)
        self.thread: threading.Thread | None = None
        self.starting = threading.Lock()
        self.purged_at = 0.0

    def put(self, entry: Failure) -> None:
        try:
            self.queue.put_nowait(entry)
        except queue.Full:
            metrics.FAILURES_DROPPED.inc()
            return
        if self.thread is None or not self.thread.is_alive():
            with self.starting:
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(target=self.run, name="failure-log", daemon=True)
                    self.thread.start()

    def run(self) -> None:
        while True:
            batch = [self.queue.get()]
            while len(batch) < BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                write(batch)
                if time.monotonic() - self.purged_at > PURGE_EVERY.total_seconds():
                    self.purged_at = time.monotonic()
                    purge(now=timezone.now())
            except DatabaseError:
                logger.exception("%d refused sign-ins could not be written", len(batch))
                metrics.FAILURES_DROPPED.inc(len(batch))
                # The next batch starts on a new connection.
                connection.close()
            finally:
                for _ in batch:
                    self.queue.task_done()

    def wait_until_written(self, timeout: float) -> bool:
        """Wait until every failure queued so far is written (or dropped); False if `timeout`
        seconds passed first."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.queue.all_tasks_done.wait(left)
        return True


recorder = Recorder()


def write(batch: list[Failure]) -> None:
    """Store failures in one insert. Where a setting, channel or deployment was deleted since,
    the failure is stored without it, or not at all for a deleted setting."""
    from messaging.models import SignInFailure

    try:
        with transaction.atomic():
            SignInFailure.objects.bulk_create(SignInFailure(**asdict(entry)) for entry in batch)
    except IntegrityError:
        SignInFailure.objects.bulk_create(_without_deleted(batch))


def _without_deleted(batch: list[Failure]) -> list:
    from authsettings.models import AuthenticationSetting
    from messaging.models import ChannelInstance, Deployment, SignInFailure

    def existing(model, ids):
        wanted = {i for i in ids if i is not None}
        return set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))

    settings_ = existing(AuthenticationSetting, [f.setting_id for f in batch])
    channels = existing(ChannelInstance, [f.channel_instance_id for f in batch])
    deployments = existing(Deployment, [f.deployment_id for f in batch])
    return [
        SignInFailure(
            **{
                **asdict(entry),
                "channel_instance_id": _kept(entry.channel_instance_id, channels),
                "deployment_id": _kept(entry.deployment_id, deployments),
            }
        )
        for entry in batch
        if entry.setting_id is None or entry.setting_id in settings_
    ]


def _kept(pk: int | None, existing: set[int]) -> int | None:
    return pk if pk in existing else None


def kept_since(now: datetime) -> datetime:
    return now - timedelta(days=settings.CC_FAILURE_LOG_DAYS)


def purge(*, now: datetime) -> int:
    """Delete failures older than CC_FAILURE_LOG_DAYS; returns how many."""
    from messaging.models import SignInFailure

    deleted, _ = SignInFailure.objects.filter(at__lt=kept_since(now)).delete()
    return deleted


def failures_of(setting, *, now: datetime):
    """The setting's failures still kept, newest first."""
    return setting.sign_in_failures.filter(at__gte=kept_since(now)).select_related(
        "channel_instance", "deployment"
    )


@dataclass(frozen=True)
class CodeCount:
    code: str
    last_hour: int
    last_day: int
    fix: str


def summary(setting, *, now: datetime) -> dict:
    """The failure panel of a setting: counts by code for the last hour and day (most
    frequent first), and the latest failures, each with the tester's fix for its code."""
    day = list(
        setting.sign_in_failures.filter(at__gte=now - timedelta(days=1)).values_list("code", "at")
    )
    by_day = Counter(code for code, _ in day)
    by_hour = Counter(code for code, at in day if at >= now - timedelta(hours=1))
    counts = [
        CodeCount(code, by_hour[code], by_day[code], fix_for(code))
        for code, _ in sorted(by_day.items(), key=lambda item: (-item[1], item[0]))
    ]
    latest = [
        {"failure": entry, "fix": fix_for(entry.code)}
        for entry in failures_of(setting, now=now)[:LATEST]
    ]
    return {
        "counts": counts,
        "latest": latest,
        "last_hour": sum(by_hour.values()),
        "last_day": len(day),
        "days_kept": settings.CC_FAILURE_LOG_DAYS,
    }
