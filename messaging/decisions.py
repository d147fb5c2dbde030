"""Authentication decisions: each chat start and each sign-in, accepted or refused, is told
once here. It becomes one structured log line (result, code, setting, kid, latency; never a
token, the subject only as a keyed hash), a count in the metrics and, when refused, an entry
in the failure log. The ways in call it through `judged` (socket frames), `judging` (the
widget's sign-in endpoints) and `refused_apple_sign_in`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from contactcenter import metrics
from contactcenter.lib.errors import Refused
from messaging import failure_log

logger = logging.getLogger("contactcenter.authentication")

CHAT_START = "chat_start"
# The widget's sign-in endpoints that sign a customer in (not logout), by handler name.
WIDGET_SIGN_INS = {"exchange": "code_exchange", "refresh": "code_refresh"}


def subject_hash(subject: str) -> str:
    """The same subject always gives the same 16 hex digits, which tell nobody the subject:
    keyed with the secret key, so guessable subjects (e-mail addresses) cannot be tried."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, subject.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:16]


def decided(
    way: str,
    *,
    refusal: Refused | None,
    setting_id: int | None,
    channel_instance_id: int | None = None,
    deployment_id: int | None = None,
    origin: str | None = None,
    token: object = None,
    subject: str | None = None,
    seconds: float | None = None,
) -> None:
    """Tell one decision: `refusal` None for an accepted start or sign-in."""
    code = refusal.code if refusal is not None else None
    kid, iss = failure_log.unverified_kid_and_issuer(token)
    line = {
        "event": "authentication",
        "way": way,
        "result": "refused" if refusal is not None else "accepted",
        "code": code,
        "setting": setting_id,
        "channel_instance": channel_instance_id,
        "deployment": deployment_id,
        "kid": kid or None,
        "iss": iss or None,
        "subject": subject_hash(subject) if subject and refusal is None else None,
        "latency_ms": round(seconds * 1000, 2) if seconds is not None else None,
    }
    logger.info(json.dumps(line, ensure_ascii=False, sort_keys=True))
    if way == CHAT_START:
        metrics.CHAT_STARTS.labels(result=code or "started").inc()
    else:
        metrics.SIGN_INS.labels(way=way, result=code or metrics.OK).inc()
    if refusal is not None and setting_id is not None:
        failure_log.record(
            failure_log.failure(
                way,
                refusal.code,
                refusal.detail,
                setting_id=setting_id,
                channel_instance_id=channel_instance_id,
                deployment_id=deployment_id,
                origin=origin,
                token=token,
            )
        )


def judged(way: str):
    """Decorate a visitor socket's frame handler (`start`, `authenticate`): its outcome is a
    decision about the frame's token, told with the socket's widget, deployment and origin."""

    def decorate(handler):
        @functools.wraps(handler)
        async def judge(consumer, content):
            begun = time.perf_counter()
            try:
                await handler(consumer, content)
            except Refused as refusal:
                _decided_on_socket(way, consumer, content, refusal, begun)
                raise
            _decided_on_socket(way, consumer, content, None, begun)

        return judge

    return decorate


def _decided_on_socket(way, consumer, content, refusal, begun) -> None:
    widget = getattr(consumer, "widget", None)
    deployment = getattr(consumer, "deployment", None)
    token = content.get("token")
    _, _, subject = _claims(token)
    origin = dict(consumer.scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
    decided(
        way,
        refusal=refusal,
        setting_id=widget.authentication_setting_id if widget else None,
        channel_instance_id=widget.pk if widget else None,
        deployment_id=deployment.pk if deployment else None,
        origin=origin,
        token=token,
        subject=subject,
        seconds=time.perf_counter() - begun,
    )


def _claims(token: object) -> tuple[str, str, str | None]:
    kid, iss = failure_log.unverified_kid_and_issuer(token)
    sub = failure_log.unverified_member(token, "sub")
    return kid, iss, sub or None


@contextmanager
def judging(handler_name: str, widget, *, origin: str | None) -> Iterator[None]:
    """Around one of the widget's sign-in endpoints: a refusal raised inside is told as a
    refused sign-in and goes on; an endpoint that signs nobody in (logout) is not told."""
    way = WIDGET_SIGN_INS.get(handler_name)
    if way is None:
        yield
        return
    begun = time.perf_counter()
    told = functools.partial(
        decided,
        way,
        setting_id=widget.authentication_setting_id,
        channel_instance_id=widget.pk,
        origin=origin,
    )
    try:
        yield
    except Refused as refusal:
        told(refusal=refusal, seconds=time.perf_counter() - begun)
        raise
    told(refusal=None, seconds=time.perf_counter() - begun)


def refused_apple_sign_in(code: str, detail: str, *, setting_id: int, conversation=None) -> None:
    """An Apple customer's sign-in refused (at the callback, or from the device's answer)."""
    decided(
        "apple_sign_in",
        refusal=Refused(code, detail),
        setting_id=setting_id,
        channel_instance_id=conversation.channel_instance_id if conversation else None,
    )


def accepted_apple_sign_in(*, setting_id: int, conversation, subject: str) -> None:
    decided(
        "apple_sign_in",
        refusal=None,
        setting_id=setting_id,
        channel_instance_id=conversation.channel_instance_id,
        subject=subject,
    )
