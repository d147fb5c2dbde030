"""The whole platform served by daphne in a child process, on the test database.

The child serves the production application (contactcenter.asgi: static files from the
collected STATIC_ROOT, then Django and Channels).

The child is forked the way channels.testing.ChannelsLiveServerTestCase does it, so it keeps
the test's settings (overrides included, and the test database's name, which pytest-django has
already put in place) and reaches the same database and channel layer.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.signals import request_started
from django.db import connection, connections
from django.test import Client
from django.test.utils import override_settings
from oauth2_provider.models import Application

START_SECONDS = 20

# The suite speaks plain http to the test client and to live servers: the settings that
# CC_SECURE_TRANSPORT=false makes. Settings are read before any test starts, so tests/conftest.py
# overrides them for the whole run; tests/contactcenter/test_settings.py holds the two together.
PLAIN_HTTP = {
    "CC_SECURE_TRANSPORT": False,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
}


class LiveServer:
    """A running daphne process; `stop()` ends it like a crash or a deploy would."""

    def __init__(self, process: DaphneProcess):
        self.process = process
        self.url = f"http://127.0.0.1:{process.port.value}"
        self.ws_url = f"ws://127.0.0.1:{process.port.value}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


def platform_client(redirect_uri: str, name: str = "Portal sign-in") -> tuple[Application, str]:
    """A confidential authorization-code client of the platform's own OpenID Connect
    provider (/o/), and its secret (stored hashed, so returned here)."""
    secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect_uri,
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    return application, secret


def _application():
    """The platform as the child serves it. Tests flush the database between them, and a
    flush gives content types new ids; the child forgets the ones it cached at each request,
    so the admin's log entries point at rows that exist (the parent's flush clears its own).
    Nor does the child use the channel layer the parent may hold: its Redis connections would
    be shared with the parent and every other child forked from it, their replies mixed up."""
    request_started.connect(_forget_content_types)
    channel_layers.backends.clear()
    return make_application(static_wrapper=None)


def _forget_content_types(**kwargs) -> None:
    ContentType.objects.clear_cache()


def free_port() -> int:
    """A loopback port nothing listens on now, for a server whose settings must name its own
    address before it starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def daphne_on_the_test_database(output: IO | None = None) -> Iterator[str]:
    """`daphne contactcenter.asgi:application` started from its command line, as production
    starts it (not forked from the test), on a free loopback port and the test database;
    yields its ws:// address. Its output (the access log, errors) goes to `output` when
    given."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CC_OUTBOUND_ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONUNBUFFERED": "1",  # its access log is read while it runs
    }
    server = subprocess.Popen(  # noqa: S603  (our own command line)
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "contactcenter.asgi:application",
        ],
        env=environment,
        stdout=output,
        stderr=output,
    )
    try:
        deadline = time.monotonic() + 30
        while not listening(port):
            assert time.monotonic() < deadline, "daphne did not start"
            time.sleep(0.2)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_database_url() -> str:
    """The test database as a DATABASE_URL (SQLite's test database is a file: see settings)."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{database['NAME']}"
    return (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT']}/{database['NAME']}"
    )


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def start_server(django_db_blocker, port: int = 0) -> LiveServer:
    """Start daphne on loopback `port` (0: a free one). Raises RuntimeError when it does not
    come up."""
    process = DaphneProcess(host="127.0.0.1", get_application=_application, port=port)
    # Once this process has run a socket test, asgiref's shared executor has a worker thread,
    # which a forked child does not inherit: its consumers would wait on it forever. The
    # child gets an executor of its own.
    inherited_executor = SyncToAsync.single_thread_executor
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    try:
        with django_db_blocker.unblock():
            # A forked child must not share the parent's database sockets; both reconnect.
            connections.close_all()
            process.start()
    finally:
        SyncToAsync.single_thread_executor = inherited_executor
    if not process.ready.wait(timeout=START_SECONDS):
        process.terminate()
        raise RuntimeError("daphne did not start")
    return LiveServer(process)


async def receive(socket, timeout: float = 10) -> dict:
    """The next frame of a live server's socket (a websockets client), decoded. Raises
    TimeoutError when none comes within `timeout` seconds."""
    return json.loads(await asyncio.wait_for(socket.recv(), timeout=timeout))


async def receive_until(socket, frame_type: str) -> dict:
    """The next frame of `frame_type`; the frames before it are passed over."""
    while (frame := await receive(socket))["type"] != frame_type:
        pass
    return frame


def agent_cookie(agent) -> str:
    """The Cookie header of a new signed-in session of the agent."""
    client = Client()
    client.force_login(agent)
    return f"sessionid={client.cookies['sessionid'].value}"


@contextmanager
def cluster(django_db_blocker) -> Iterator[list[LiveServer]]:
    """The platform on one server process, or on two where Redis joins them (REDIS_URL set);
    stopped afterwards."""
    started = [start_server(django_db_blocker)]
    if os.environ.get("REDIS_URL"):
        started.append(start_server(django_db_blocker))
    try:
        yield started
    finally:
        for server in started:
            server.stop()


# The passwords the demo gives its users in the live tests.
DEMO_PASSWORDS = {
    "admin": "demo admin password 1",
    "agent": "demo agent password 1",
    "customer": "demo customer password 1",
}


@contextmanager
def serving_platform(
    django_db_blocker, var_dir: Path, *, port: int = 0, **settings: object
) -> Iterator[LiveServer]:
    """The platform on a live server (on `port`, or a free one) with `settings`, that may fetch
    from loopback (the sample portal's keys, stand-ins) and keeps what it generates in
    `var_dir`; stopped afterwards."""
    # Enabled before the fork, so the server has them too.
    overrides = override_settings(
        CC_OUTBOUND_ALLOWED_HOSTS=["127.0.0.1"], VAR_DIR=var_dir, **settings
    )
    overrides.enable()
    try:
        server = start_server(django_db_blocker, port)
        try:
            yield server
        finally:
            server.stop()
    finally:
        overrides.disable()


def load_demo(base_url: str, monkeypatch) -> None:
    """The demo data, its users with DEMO_PASSWORDS, the sample portal's keys served by the
    live server at `base_url`."""
    for username, password in DEMO_PASSWORDS.items():
        monkeypatch.setenv(f"DEMO_{username.upper()}_PASSWORD", password)
    # Playwright's sync API runs an event loop on the test's thread, where the live events the
    # demo sends on commit (async_to_sync) cannot run: the demo gets a thread of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(call_command, "demo", base_url=base_url, stdout=io.StringIO()).result()
