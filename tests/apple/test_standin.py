"""Apple's side of the demo: the gateway stand-in checks the platform's JWT as Apple would and
keeps what it accepts for the customer's device; the Messages page's server writes to the
platform as Apple's gateway does (HS256 JWT for the MSP, gzip JSON, the addressing headers)."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from importlib import import_module
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.test import Client

from messaging.models import ChannelInstance
from tests.apple.gateway import MSP_ID, MSP_SECRET, platform_token, sign_in_request, to_device
from tests.helpers import Type, make_setting
from workstreams.models import Workstream

BUSINESS_ID = "business-7f3c"
REDIRECT_URI = "http://127.0.0.1:8000/apple/auth/1/callback"


@pytest.fixture
def business(db) -> ChannelInstance:
    setting = make_setting(Type.OAUTH2_OPENID_CONNECT, client_id="apple-client")
    workstream = Workstream.objects.create(
        name="Apple Messages", channel_type="apple_messages_for_business"
    )
    return ChannelInstance.objects.create(
        name="Northwind Outfitters",
        kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
        workstream=workstream,
        authentication_setting=setting,
        require_authentication=False,
        business_id=BUSINESS_ID,
    )


@pytest.fixture
def device(client, business, msp) -> tuple[Client, str]:
    """A browser on the Messages page, and the customer id the page gave it."""
    page = client.get("/portal/apple/")
    assert page.status_code == 200
    return client, page.context["customer_id"]


def gateway_post(path: str, body: dict, token: str | None, *, gzipped: bool = False):
    content = json.dumps(body).encode()
    headers = {
        "id": body["id"],
        "source-id": body["sourceId"],
        "destination-id": body["destinationId"],
    }
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if gzipped:
        content = gzip.compress(content)
        headers["Content-Encoding"] = "gzip"
    return Client().post(
        f"/portal/apple/gateway/{path}", content, content_type="application/json", headers=headers
    )


def entries(client: Client) -> list[dict]:
    return client.get("/portal/apple/messages", {"after": 0}).json()["entries"]


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        (platform_token(secret=b"another secret, not the MSP's one"), 403),
        (platform_token(iss="someone-else"), 403),
        (platform_token(exp=int(time.time()) - 600), 403),
        (jwt.encode({"iss": MSP_ID}, MSP_SECRET, "HS256"), 403),
    ],
    ids=["no token", "wrong secret", "wrong issuer", "expired", "no iat"],
)
def test_the_gateway_refuses_a_token_apple_would_refuse_and_keeps_nothing(device, token, status):
    client, customer_id = device
    response = gateway_post("message", to_device(BUSINESS_ID, customer_id, body="Hello"), token)

    assert response.status_code == status
    assert response.json()["detail"]
    assert entries(client) == []


def test_the_gateway_keeps_a_signed_text_for_the_customers_device(device):
    client, customer_id = device
    first = gateway_post(
        "message", to_device(BUSINESS_ID, customer_id, body="Hello, Dana"), platform_token()
    )
    second = gateway_post(
        "message",
        to_device(BUSINESS_ID, customer_id, body="How can I help?"),
        platform_token(),
        gzipped=True,
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert [(entry["from"], entry["text"]) for entry in entries(client)] == [
        ("business", "Hello, Dana"),
        ("business", "How can I help?"),
    ]
    later = client.get("/portal/apple/messages", {"after": 1}).json()["entries"]
    assert [entry["text"] for entry in later] == ["How can I help?"]


def test_the_gateway_answers_503_until_the_msp_is_configured(device, settings):
    _, customer_id = device
    settings.APPLE_MSP_SECRET = b""

    response = gateway_post(
        "message", to_device(BUSINESS_ID, customer_id, body="Hi"), platform_token()
    )

    assert response.status_code == 503


def test_the_gateway_refuses_headers_that_disagree_with_the_body(device):
    client, customer_id = device
    body = to_device(BUSINESS_ID, customer_id, body="Hi")
    response = Client().post(
        "/portal/apple/gateway/message",
        json.dumps(body),
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {platform_token()}",
            "id": body["id"],
            "source-id": BUSINESS_ID,
            "destination-id": "urn:mbid:somebody-else",
        },
    )

    assert response.status_code == 400
    assert "destinationId" in response.json()["detail"]
    assert entries(client) == []


def test_a_sign_in_request_becomes_a_bubble_leading_to_the_providers_authorization(device):
    client, customer_id = device
    request_identifier = str(uuid.uuid4())
    body = sign_in_request(BUSINESS_ID, customer_id, request_identifier, REDIRECT_URI)
    redirect_uri = body["interactiveData"]["data"]["authenticate"]["oauth2"]["redirectURI"]

    response = gateway_post("authenticate", body, platform_token())

    assert response.status_code == 200
    [bubble] = entries(client)
    assert (bubble["kind"], bubble["text"]) == ("sign_in", "Sign in to Northwind Outfitters")
    assert bubble["request_identifier"] == request_identifier
    url = urlsplit(bubble["authorize_url"])
    assert url.path == "/o/authorize/"
    assert parse_qs(url.query) == {
        "response_type": ["code"],
        "client_id": ["apple-client"],
        "scope": ["openid email"],
        "state": ["a-single-use-state"],
        "redirect_uri": [redirect_uri],
    }


def test_the_page_writes_to_the_platform_as_apples_gateway_does(device, key_server, settings):
    client, customer_id = device
    settings.CC_PUBLIC_URL = key_server.url("")
    key_server.serve("/apple/message", b"", content_type="text/plain")

    response = client.post(
        "/portal/apple/send",
        {"business_id": BUSINESS_ID, "text": "Where is my order?"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    [request] = key_server.requests
    headers = {name.lower(): value for name, value in request.headers.items()}
    scheme, token = headers["authorization"].split(" ")
    claims = jwt.decode(token, MSP_SECRET, algorithms=["HS256"], audience=MSP_ID)
    body = json.loads(gzip.decompress(request.body))
    assert (request.method, scheme) == ("POST", "Bearer")
    assert claims["exp"] > claims["iat"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/json"
    assert headers["capability-list"] == "AUTH,AUTH2"
    assert (headers["id"], headers["source-id"], headers["destination-id"]) == (
        body["id"],
        customer_id,
        BUSINESS_ID,
    )
    assert body == {
        "id": body["id"],
        "type": "text",
        "sourceId": customer_id,
        "destinationId": BUSINESS_ID,
        "v": 1,
        "body": "Where is my order?",
        "locale": "en_US",
    }
    assert [(entry["from"], entry["text"]) for entry in entries(client)] == [
        ("customer", "Where is my order?")
    ]


def test_a_text_the_platform_refuses_is_reported_and_not_shown_as_sent(
    device, key_server, settings
):
    client, _ = device
    settings.CC_PUBLIC_URL = key_server.url("")
    key_server.serve("/apple/message", {"detail": "unknown destination"}, status=404)

    response = client.post(
        "/portal/apple/send",
        {"business_id": BUSINESS_ID, "text": "Hello?"},
        content_type="application/json",
    )

    assert response.status_code == 502
    assert "HTTP 404" in response.json()["detail"]
    assert entries(client) == []


def sign_in_requested(customer_id: str, key_server, settings) -> str:
    """The platform asks the customer's device to sign in, through the gateway; the key
    server stands for the platform's /apple/message, which the device's answer goes to.
    Returns the request's identifier."""
    settings.CC_PUBLIC_URL = key_server.url("")
    key_server.serve("/apple/message", b"", content_type="text/plain")
    request_identifier = str(uuid.uuid4())
    gateway_post(
        "authenticate",
        sign_in_request(BUSINESS_ID, customer_id, request_identifier, REDIRECT_URI),
        platform_token(),
    )
    return request_identifier


def answer_signed_in(client, request_identifier: str):
    """The device's answer to a sign-in request: signed in."""
    return client.post(
        "/portal/apple/sign-in-reply",
        {
            "business_id": BUSINESS_ID,
            "request_identifier": request_identifier,
            "status": "authenticated",
        },
        content_type="application/json",
    )


def test_the_device_answers_a_sign_in_it_received_with_its_request_identifier(
    device, key_server, settings
):
    client, customer_id = device
    request_identifier = sign_in_requested(customer_id, key_server, settings)

    unknown = answer_signed_in(client, str(uuid.uuid4()))
    answered = answer_signed_in(client, request_identifier)

    assert unknown.status_code == 404
    assert answered.status_code == 200
    [request] = key_server.requests
    body = json.loads(gzip.decompress(request.body))
    assert body["type"] == "interactive"
    assert body["interactiveData"]["data"] == {
        "version": "1.0",
        "requestIdentifier": request_identifier,
        "authenticate": {"status": "authenticated"},
    }
    assert entries(client)[-1] == {
        "from": "customer",
        "kind": "text",
        "text": "I signed in",
        "n": 2,
    }


def test_the_device_keeps_its_conversation_when_a_sign_in_renews_the_session(
    device, key_server, settings
):
    client, customer_id = device
    request_identifier = sign_in_requested(customer_id, key_server, settings)
    stale = client.session.session_key  # the session the provider's pages gave the browser
    # The provider's sign-in in the popup renews the session's key, as Django's login does.
    import_module(settings.SESSION_ENGINE).SessionStore(stale).cycle_key()

    # The page's poll and answer, still carrying the session the sign-in replaced.
    polled = client.get("/portal/apple/messages?after=0")
    answered = answer_signed_in(client, request_identifier)

    assert [entry["kind"] for entry in polled.json()["entries"]] == ["sign_in"]
    assert settings.SESSION_COOKIE_NAME not in polled.cookies  # the renewed one is not dropped
    assert answered.status_code == 200


def test_a_device_call_from_a_browser_that_never_loaded_the_page_is_told_to_reload(business, msp):
    browser = Client()

    sent = browser.post(
        "/portal/apple/send",
        {"business_id": BUSINESS_ID, "text": "Hello"},
        content_type="application/json",
    )

    assert (sent.status_code, sent.json()["detail"]) == (
        409,
        "Reload the page: this browser has no conversation yet.",
    )
    assert browser.get("/portal/apple/messages?after=0").json() == {"entries": []}
