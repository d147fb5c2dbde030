"""A real key server on loopback, RSA keys made once per session, and token makers.

The fetcher refuses loopback addresses, so the `key_server` fixture lists 127.0.0.1 in
CC_OUTBOUND_ALLOWED_HOSTS, as the run command does for the sample portal.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from authsettings import tokens
from authsettings.models import AuthenticationSetting
from tests.helpers import Type, build_setting

ISSUER = "https://portal.example.com"
SUBJECT = "visitor-42"
# A fixed moment for tests that pass the time in, and a key expiry an hour after it.
NOW = 1_750_000_000.0
LATER = int(NOW) + 3600

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class KeyServer:
    """Answers each path as the test told it to, and remembers every request."""

    port: int
    replies: dict[str, Handler] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/keys") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes | str | list | dict,
        *,
        status: int = 200,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        delay: float = 0,
    ) -> None:
        """Answer `path` with a body (a list or dict is sent as JSON)."""
        if isinstance(body, list | dict):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        all_headers = {"Content-Type": content_type, **(headers or {})}

        def reply(handler: BaseHTTPRequestHandler) -> None:
            time.sleep(delay)
            send(handler, status, data, all_headers)

        self.replies[path] = reply

    def serve_with(self, path: str, handler: Handler) -> None:
        self.replies[path] = handler

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=handler.path,
            headers=dict(handler.headers.items()),
            body=handler.rfile.read(length),
        )
        with self.lock:
            self.hits[handler.path] += 1
            self.requests.append(request)
        reply = self.replies.get(handler.path)
        if reply is None:
            send(handler, 404, b"not found", {"Content-Type": "text/plain"})
        else:
            reply(handler)

    def reset(self) -> None:
        with self.lock:
            self.replies.clear()
            self.hits.clear()
            self.requests.clear()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]):
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(body)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.key_server.answer(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="session")
def _running_key_server() -> Iterator[KeyServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RequestHandler)
    server.daemon_threads = True
    server.key_server = KeyServer(port=server.server_address[1])
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server.key_server
    server.shutdown()
    server.server_close()


@pytest.fixture
def key_server(_running_key_server: KeyServer, settings) -> KeyServer:
    settings.CC_OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    _running_key_server.reset()
    return _running_key_server


@dataclass(frozen=True)
class Keys:
    signing: rsa.RSAPrivateKey
    other: rsa.RSAPrivateKey
    weak: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys(
        signing=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        weak=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505
        ec=ec.generate_private_key(ec.SECP256R1()),
    )


def setting_for(url: str, *, expected_issuer: str = "") -> AuthenticationSetting:
    """An unsaved implicit-flow setting: verification reads only its key URL and issuer."""
    return build_setting(
        Type.OAUTH2_IMPLICIT, name="Portal", public_key_url=url, expected_issuer=expected_issuer
    )


def setting_publishing(
    key_server: KeyServer, document: object, *, expected_issuer: str = "", **answer: object
) -> AuthenticationSetting:
    """An unsaved implicit-flow setting, as setting_for() makes, whose key URL, /keys on
    `key_server`, answers with `document` (`answer` as for KeyServer.serve)."""
    key_server.serve("/keys", document, **answer)
    return setting_for(key_server.url("/keys"), expected_issuer=expected_issuer)


def verify_for(
    setting: AuthenticationSetting, token: object, *, now: float
) -> tokens.VerifiedToken:
    """Verify a token as the widget runtime does for an implicit-flow setting."""
    return tokens.verify(
        token,
        key_source=tokens.KeyUrl(setting.public_key_url),
        rules=tokens.Rules.of(setting),
        now=now,
    )


# Key documents


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def kid_entry(key: rsa.RSAPrivateKey, kid: str, expiry: object) -> dict:
    return {
        "kid": kid,
        "publicKey": base64.b64encode(public_pem(key).encode()).decode(),
        "expiry": expiry,
    }


def jwk(key: rsa.RSAPrivateKey, kid: str | None = None, **members: object) -> dict:
    numbers = key.public_key().public_numbers()
    entry = {"kty": "RSA", "n": b64url_int(numbers.n), "e": b64url_int(numbers.e)}
    if kid is not None:
        entry["kid"] = kid
    return {**entry, **members}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_int(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


# Tokens


def claims(now: float, **overrides: object) -> dict:
    """Valid claims at `now`, with some replaced."""
    return {"iss": ISSUER, "sub": SUBJECT, "iat": int(now), "exp": int(now) + 600, **overrides}


def without(payload: dict, *names: str) -> dict:
    return {name: value for name, value in payload.items() if name not in names}


def make_token(key: rsa.RSAPrivateKey, payload: dict, **header: object) -> str:
    """An RS256 token; header members are added to (or replace) alg RS256 and typ JWT."""
    return raw_token(json.dumps({"alg": "RS256", "typ": "JWT", **header}), json.dumps(payload), key)


def raw_token(header_json: str, payload_json: str, key: rsa.RSAPrivateKey) -> str:
    """An RS256 token over JSON texts as given, so tests can hold duplicate members."""
    signing_input = f"{b64url(header_json.encode())}.{b64url(payload_json.encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def token_for(keys: Keys, **overrides: object) -> str:
    """A valid token from the signing key, issued now, with some claims replaced."""
    return make_token(keys.signing, claims(time.time(), **overrides))
