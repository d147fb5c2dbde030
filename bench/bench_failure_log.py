"""Refused chat starts over a real WebSocket (connect, start with an expired JWT, error) on a
daphne server that writes each refusal to the sign-in failure log, against the same server
code in a second process whose failure log drops every refusal before it is queued: the
baseline. Rounds alternate between the two, in the same run.

Run: .venv/bin/python bench/bench_failure_log.py [rounds]
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

os.environ["CC_WIDGET_STARTS_PER_MINUTE"] = "0"

import _setup
import jwt
from bench_chat_start import make_widget, timed
from channels.routing import ProtocolTypeRouter, URLRouter
from daphne.testing import DaphneProcess

from contactcenter.routing import websocket_urlpatterns
from messaging import failure_log
from messaging.models import SignInFailure


def application():
    return ProtocolTypeRouter({"websocket": URLRouter(websocket_urlpatterns)})


def without_failure_log():
    """The baseline's application: its process keeps no failure."""
    failure_log.recorder.put = lambda entry: None
    return application()


def serve(get_application) -> tuple[DaphneProcess, str]:
    server = DaphneProcess(host="127.0.0.1", get_application=get_application)
    server.start()
    server.ready.wait(timeout=20)
    return server, f"ws://127.0.0.1:{server.port.value}"


def main(rounds: int) -> None:
    key = _setup.new_key()
    key_server = _setup.KeyServer(_setup.public_pem(key))
    widget = make_widget(key_server.url)
    expired = jwt.encode(
        {"iss": "bench", "sub": "bench", "iat": 1000, "exp": 1060}, key, algorithm="RS256"
    )
    start = {"type": "start", "token": expired}
    path = f"/ws/widget/{widget.widget_id}/"
    logged, logged_url = serve(application)
    baseline, baseline_url = serve(without_failure_log)
    with_log = without_log = 0.0
    try:
        for url in (logged_url, baseline_url):
            asyncio.run(
                timed(5, url + path, start, answer="error")
            )  # warm up: key fetch, connections
        batches = 10
        for _ in range(batches):
            with_log += asyncio.run(
                timed(rounds // batches, logged_url + path, start, answer="error")
            )
            without_log += asyncio.run(
                timed(rounds // batches, baseline_url + path, start, answer="error")
            )
        with_log, without_log = with_log / batches, without_log / batches
        deadline = time.monotonic() + 30
        expected = 5 + (rounds // batches) * batches
        while SignInFailure.objects.count() < expected and time.monotonic() < deadline:
            time.sleep(0.1)  # the writer drains on its own thread in the server's process
        kept = SignInFailure.objects.count()
    finally:
        for server in (logged, baseline):
            server.terminate()
            server.join()
        key_server.stop()
    print(f"refused start, failure log dropping (baseline): {without_log * 1000:7.2f} ms")
    print(f"refused start, failure log writing:             {with_log * 1000:7.2f} ms")
    print(f"ratio writing/baseline: {with_log / without_log:.2f}   ({rounds} rounds each)")
    print(f"failures written by the logging server: {kept} of {expected}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
