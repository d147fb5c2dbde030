"""The platform's Prometheus metrics (CONTRACT.md "Operations").

Labels hold results and codes from fixed sets, never a token, a subject or a URL. With several
server processes on a host, set PROMETHEUS_MULTIPROC_DIR to one empty directory they all
write to (prometheus-client's multiprocess mode): `/metrics` from any of them then reports the
sum of all. Without it, each process reports only itself and each must be scraped.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as PROCESS_REGISTRY

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
OK = "ok"

CHAT_STARTS = Counter(
    "cc_chat_starts", "Chat starts by result: started, or the refusal's code.", ["result"]
)
SIGN_INS = Counter(
    "cc_sign_ins",
    "Sign-ins other than a chat's start (a mid-chat authenticate frame, a code-flow exchange "
    "or refresh, an Apple sign-in) by way and result: ok, or the refusal's code.",
    ["way", "result"],
)
TOKEN_CHECKS = Histogram(
    "cc_token_checks_seconds",
    "Time to check a customer's token, key fetches included.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
KEY_FETCHES = Counter(
    "cc_key_fetches", "Fetches of public key URLs by result: ok or error.", ["result"]
)
OPEN_SOCKETS = Gauge(
    "cc_open_sockets",
    "Open WebSockets by kind: widget or agent.",
    ["kind"],
    multiprocess_mode="livesum",
)
APPLE_MESSAGES = Counter(
    "cc_apple_messages",
    "Apple Messages for Business messages by direction (in, out) and result: ok, or the code.",
    ["direction", "result"],
)
FAILURES_DROPPED = Counter(
    "cc_failure_log_dropped",
    "Refused sign-ins the failure log could not keep (its queue full, or the database failing).",
)


def exposition() -> tuple[bytes, str]:
    """The metrics as Prometheus text, and its content type: every process's in multiprocess
    mode, else this process's."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = PROCESS_REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


if MULTIPROCESS:
    # A process that ends takes its open sockets out of the live sum.
    atexit.register(multiprocess.mark_process_dead, os.getpid())


def counted(counter: Counter, result_of: Callable[[Any], str], **labels: str):
    """Count each call of the decorated function by `result_of(its return value)`; a call that
    raises counts as `error` and the exception goes on."""

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            try:
                value = function(*args, **kwargs)
            except Exception:
                counter.labels(**labels, result="error").inc()
                raise
            counter.labels(**labels, result=result_of(value)).inc()
            return value

        return wrapper

    return decorate


def always_ok(_: object) -> str:
    return OK


def answer_code(response) -> str:
    """`ok` for a successful JSON answer, else the code of its `{"code", "detail"}`."""
    if response.status_code < 400:
        return OK
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) else str(response.status_code)


def open_sockets(kind: str):
    """Class decorator for a WebSocket consumer: counts it in `cc_open_sockets{kind}` from its
    connection to its disconnection."""

    def decorate(consumer_class):
        connect = consumer_class.websocket_connect
        disconnect = consumer_class.websocket_disconnect

        async def websocket_connect(self, message):
            OPEN_SOCKETS.labels(kind=kind).inc()
            self.counted_open = True
            await connect(self, message)

        async def websocket_disconnect(self, message):
            if getattr(self, "counted_open", False):
                self.counted_open = False
                OPEN_SOCKETS.labels(kind=kind).dec()
            await disconnect(self, message)

        consumer_class.websocket_connect = websocket_connect
        consumer_class.websocket_disconnect = websocket_disconnect
        return consumer_class

    return decorate
