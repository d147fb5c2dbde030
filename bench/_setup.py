"""Shared set-up for benchmarks: Django on its embedded defaults, a loopback key server."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings")
os.environ.setdefault("CC_OUTBOUND_ALLOWED_HOSTS", "127.0.0.1")
# Benchmarks run on a throwaway SQLite database, never on var/db.sqlite3 or a server's; those
# on PostgreSQL and Redis name theirs in BENCH_DATABASE_URL and BENCH_REDIS_URL.
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or (
    f"sqlite:///{tempfile.mkdtemp(prefix='cc-bench-')}/bench.sqlite3"
)
if os.environ.get("BENCH_REDIS_URL"):
    os.environ["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
else:
    os.environ.pop("REDIS_URL", None)

import logging

import django

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

import jwt  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key: rsa.RSAPrivateKey, lifetime: int = 3600) -> str:
    """A customer's RS256 token signed with `key`, valid for `lifetime` seconds."""
    now = int(time.time())
    return jwt.encode(
        {"iss": "bench", "sub": "bench", "iat": now, "exp": now + lifetime}, key, algorithm="RS256"
    )


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class KeyServer:
    """Serves one PEM document on loopback and counts the fetches."""

    def __init__(self, body: bytes):
        server_self = self
        self.fetches: Counter[str] = Counter()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server_self.fetches[self.path] += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                """Quiet."""

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # 200 clients may knock at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/publickey"

    def stop(self) -> None:
        self.server.shutdown()
