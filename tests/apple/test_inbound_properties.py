"""/apple/message on any body and headers: one of the answers the contract lists, never
another 5xx; sign-in replies with any content included."""

from __future__ import annotations

import base64
import gzip
import json
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from messaging import conversations
from messaging.models import Conversation
from tests.apple.conftest import apple_setting
from tests.apple.device import BUSINESS_ID, CUSTOMER, apple_token, text
from tests.helpers import Type
from tests.properties.strategies import json_values, mostly, objects_with_duplicates

pytestmark = pytest.mark.django_db

ANSWERS = {200, 400, 401, 403, 404, 413}
fuzz = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
KINDS = st.sampled_from(["text", "interactive", "typing_start", "typing_end", "close", "other"])
header_text = st.text(st.characters(codec="latin-1", exclude_characters="\r\n\x00"), max_size=40)


@st.composite
def documents(draw: st.DrawFn, request_identifiers: list[str]) -> bytes:
    """Mostly Apple-shaped bodies with any members, sometimes any JSON or any bytes."""
    authenticate = st.fixed_dictionaries(
        {},
        optional={
            "status": mostly(st.just("authenticated"), json_values),
            "token": mostly(
                st.binary(max_size=200).map(lambda raw: base64.b64encode(raw).decode()),
                json_values,
            ),
        },
    )
    interactive = st.fixed_dictionaries(
        {},
        optional={
            "data": mostly(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "requestIdentifier": mostly(
                            st.sampled_from(request_identifiers), json_values
                        ),
                        "authenticate": mostly(authenticate, json_values),
                    },
                ),
                json_values,
            ),
            "replyMessage": json_values,
        },
    )
    shaped = st.fixed_dictionaries(
        {"type": mostly(KINDS, json_values)},
        optional={
            "body": mostly(st.text(max_size=50), json_values),
            "interactiveData": mostly(interactive, json_values),
        },
    ).map(lambda value: json.dumps(value).encode())
    other = st.one_of(
        json_values.map(lambda value: json.dumps(value).encode()),
        objects_with_duplicates(st.sampled_from(["type", "body", "id"])).map(str.encode),
        st.binary(max_size=64),
    )
    return draw(mostly(shaped, other))


@pytest.fixture
def sign_in_request(msp, apple_channel, key_server, gateway):
    apple_channel.authentication_setting = apple_setting(key_server, Type.OAUTH2_CODE)
    apple_channel.save()
    key_server.serve("/me", {"sub": "someone"})
    assert text(Client(), "hello", capabilities="AUTH").status_code == 200
    sign_in = conversations.request_authentication(
        Conversation.objects.get(),
        rich_message_id=None,
        platform_url="https://cc.example.com",
        acting_user=None,
    )
    return str(sign_in.request_identifier)


def test_no_body_or_header_gives_another_answer_than_the_contracts(sign_in_request):
    client = Client(raise_request_exception=False)

    @fuzz
    @given(
        document=documents([sign_in_request, str(uuid.uuid4())]),
        compress=st.booleans(),
        encoding=mostly(st.sampled_from(["gzip", "identity"]), header_text),
        message_id=mostly(st.uuids().map(str), header_text),
        customer=mostly(st.just(CUSTOMER), header_text),
        business=mostly(st.just(BUSINESS_ID), header_text),
        capabilities=st.none() | header_text,
        token=mostly(st.just(None), header_text),
    )
    def check(document, compress, encoding, message_id, customer, business, capabilities, token):
        raw = gzip.compress(document) if compress else document
        headers = {
            "HTTP_AUTHORIZATION": f"Bearer {apple_token()}" if token is None else token,
            "HTTP_ID": message_id,
            "HTTP_SOURCE_ID": customer,
            "HTTP_DESTINATION_ID": business,
            "HTTP_CONTENT_ENCODING": encoding if compress else "identity",
        }
        if capabilities is not None:
            headers["HTTP_CAPABILITY_LIST"] = capabilities
        response = client.post("/apple/message", raw, content_type="application/json", **headers)
        event(f"answered {response.status_code}")
        assert response.status_code in ANSWERS, response.content

    check()
