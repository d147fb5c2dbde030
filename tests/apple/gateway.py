"""A stand-in for Apple's gateway on the loopback key server: it checks the platform's JWT as
Apple would (HS256 with the MSP secret, `iss` the MSP id, short-lived), records what it
accepted, and can be told to fail a number of times."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import jwt

from tests.keyserver import KeyServer, send

MSP_ID = "msp-test-0001"
MSP_SECRET = b"the shared MSP secret, 32 bytes!"
PATH = "/gateway"


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

    @property
    def url(self) -> str:
        return self.server.url(PATH)

    def install(self) -> None:
        for endpoint in ("message", "authenticate"):
            self.server.serve_with(f"{PATH}/{endpoint}", self.handler(endpoint))

    def fail(self, times: int) -> None:
        """Answer the next `times` requests with 503."""
        self.failures_left = times

    def handler(self, endpoint: str):
        def answer(handler: BaseHTTPRequestHandler) -> None:
            request = self.server.requests[-1]
            if self.failures_left:
                self.failures_left -= 1
                send(handler, 503, b"busy", {"Content-Type": "text/plain"})
                return
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            try:
                claims = jwt.decode(
                    token,
                    MSP_SECRET,
                    algorithms=["HS256"],
                    issuer=MSP_ID,
                    options={"require": ["iss", "iat", "exp"]},
                )
            except jwt.PyJWTError as error:
                self.refused.append(str(error))
                send(handler, 401, b"bad token", {"Content-Type": "text/plain"})
                return
            self.received.append(
                Received(endpoint, request.headers, json.loads(request.body), claims)
            )
            send(handler, 200, b"{}", {"Content-Type": "application/json"})

        return answer

    def sent(self, endpoint: str) -> list[Received]:
        return [item for item in self.received if item.endpoint == endpoint]
