"""The tests' stand-in for Apple's gateway, on the loopback key server, and what the platform
sends it.

The stand-in checks each request with the sample portal's own stand-in rules (the platform's
JWT as Apple checks it, the addressing headers against the body), records what it accepted,
and can be told to fail a number of times or to refuse the messages a test picks. The demo's
stand-in (/portal/apple/gateway) holds what it accepts for the Messages page instead.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import jwt

from contactcenter.portal import apple
from messaging.apple import gateway as platform_gateway
from messaging.apple.authentication import BALLOON_ID
from tests.keyserver import KeyServer, send

# The MSP every Apple test and the browser tests' server is: its id and the secret's bytes.
MSP_ID = "msp-test-0001"
MSP_SECRET = b"the shared MSP secret, 32 bytes!"
PATH = "/gateway"
KINDS = {"message": "text", "authenticate": "interactive"}


@dataclass
class Received:
    endpoint: str
    headers: dict[str, str]
    body: dict
    claims: dict


@dataclass
class Gateway:
    server: KeyServer
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failures_left: int = 0
    refuse_when: Callable[[dict], bool] | None = None
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return self.server.url(PATH)

    def install(self) -> None:
        for endpoint in KINDS:
            self.server.serve_with(f"{PATH}/{endpoint}", self.handler(endpoint))

    def fail(self, times: int) -> None:
        """Answer the next `times` requests with 503."""
        self.failures_left = times

    def refuse(self, when: Callable[[dict], bool]) -> None:
        """Answer 503 to every request whose body `when` picks, however often it is sent."""
        self.refuse_when = when

    def handler(self, endpoint: str):
        def answer(handler: BaseHTTPRequestHandler) -> None:
            # The key server has read the body; its record of this request carries the
            # message's own id.
            request = next(
                item
                for item in reversed(self.server.requests)
                if item.headers.get("id") == handler.headers.get("id")
            )
            try:
                claims = apple.verify_platform_jwt(handler.headers.get("Authorization", ""))
                body = apple.read_body(request.body, handler.headers.get("Content-Encoding", ""))
                apple.check_addressing(handler.headers, body, kind=KINDS[endpoint])
            except apple.Refused as error:
                self.refused.append(error.detail)
                send(handler, error.status, error.detail.encode(), {"Content-Type": "text/plain"})
                return
            if self.failures_left or (self.refuse_when and self.refuse_when(body)):
                self.failures_left = max(self.failures_left - 1, 0)
                send(handler, 503, b"busy", {"Content-Type": "text/plain"})
                return
            with self.arrived:
                self.received.append(Received(endpoint, request.headers, body, claims))
                self.arrived.notify_all()
            send(handler, 200, b"{}", {"Content-Type": "application/json"})

        return answer

    def sent(self, endpoint: str) -> list[Received]:
        return [item for item in self.received if item.endpoint == endpoint]

    def wait_for(self, endpoint: str, count: int, *, timeout: float = 15) -> Received:
        """The `count`th request accepted at `endpoint`, once it has come. Raises
        AssertionError when it does not come within `timeout` seconds."""
        with self.arrived:
            came = self.arrived.wait_for(lambda: len(self.sent(endpoint)) >= count, timeout)
        assert came, f"the gateway's /{endpoint} did not receive request {count}"
        return self.sent(endpoint)[count - 1]


# What the platform sends a gateway, for tests of the stand-ins themselves


def platform_token(*, secret: bytes = MSP_SECRET, iss: str = MSP_ID, **claims) -> str:
    now = int(time.time())
    return jwt.encode({"iss": iss, "iat": now, "exp": now + 60, **claims}, secret, "HS256")


def to_device(business_id: str, customer_id: str, kind: str = "text", **fields) -> dict:
    envelope = platform_gateway.envelope(
        str(uuid.uuid4()), business_id=business_id, customer_id=customer_id, kind=kind
    )
    return {**envelope, **fields}


def sign_in_request(
    business_id: str, customer_id: str, request_identifier: str, redirect_uri: str
) -> dict:
    """An OpenID Connect authentication request as the platform sends it."""
    return to_device(
        business_id,
        customer_id,
        "interactive",
        interactiveData={
            "bid": BALLOON_ID,
            "data": {
                "version": "1.0",
                "requestIdentifier": request_identifier,
                "authenticate": {
                    "oauth2": {
                        "responseType": "code",
                        "scope": ["openid", "email"],
                        "state": "a-single-use-state",
                        "redirectURI": redirect_uri,
                    }
                },
            },
            "receivedMessage": {"title": "Sign in to Northwind Outfitters", "style": "icon"},
            "replyMessage": {"title": "I signed in", "style": "icon"},
        },
    )
