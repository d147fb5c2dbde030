"""What Apple's gateway POSTs to /apple/message: every answer the contract lists, each
message handled once, and what each type does to the customer's conversation."""

from __future__ import annotations

import gzip
import tracemalloc
import uuid

import jwt
import pytest

from messaging.models import AppleReceipt, Conversation, Message
from tests.apple import device
from tests.apple.device import CUSTOMER, apple_token, body, post, text

pytestmark = pytest.mark.django_db


def test_a_first_message_starts_a_waiting_conversation_routed_by_the_workstream(
    client, msp, apple_channel, apple_workstream
):
    response = text(client, "Hello, is my order shipped?")
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.channel_instance == apple_channel
    assert conversation.customer_id == CUSTOMER
    assert conversation.capabilities == "AUTH,AUTH2,LIST"
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.authenticated_now is False
    assert conversation.context == {}
    assert conversation.queue == apple_workstream.default_queue
    assert [m.text for m in conversation.messages.filter(sender="visitor")] == [
        "Hello, is my order shipped?"
    ]


def test_further_messages_join_the_open_conversation_and_a_plain_body_is_read_too(
    client, msp, apple_channel
):
    text(client, "one")
    assert text(client, "two", compress=False, capabilities="AUTH").status_code == 200
    conversation = Conversation.objects.get()
    assert [m.text for m in conversation.messages.filter(sender="visitor")] == ["one", "two"]
    conversation.refresh_from_db()
    assert conversation.capabilities == "AUTH"


def test_the_same_message_id_twice_is_stored_once_and_answered_200_both_times(
    client, msp, apple_channel
):
    message_id = str(uuid.uuid4())
    document = body("text", body="only once")
    assert post(client, document, message_id=message_id).status_code == 200
    assert post(client, document, message_id=message_id).status_code == 200
    assert Message.objects.filter(text="only once").count() == 1
    assert AppleReceipt.objects.count() == 1


def test_closing_closes_the_conversation_and_a_new_message_starts_another(
    client, msp, apple_channel
):
    text(client, "hi")
    assert post(client, body("close")).status_code == 200
    first = Conversation.objects.get()
    assert first.status == Conversation.Status.CLOSED
    assert first.messages.last().text == "The customer closed the conversation."
    text(client, "back again")
    assert Conversation.objects.exclude(pk=first.pk).get().status == "waiting"


def test_an_interactive_reply_other_than_a_sign_in_is_stored_with_its_title(
    client, msp, apple_channel
):
    text(client, "hi")
    reply = body(
        "interactive",
        interactiveData={"data": {"listPicker": {}}, "replyMessage": {"title": "Tuesday 10:00"}},
    )
    assert post(client, reply).status_code == 200
    assert Message.objects.filter(sender="visitor").last().text == "Tuesday 10:00"


def test_typing_and_unknown_types_store_nothing(client, msp, apple_channel):
    text(client, "hi")
    for kind in ("typing_start", "typing_end", "richLink", "something_new"):
        assert post(client, body(kind)).status_code == 200
    assert Message.objects.filter(sender="visitor").count() == 1


def test_without_the_msp_settings_the_endpoint_answers_503(client, settings, apple_channel):
    settings.APPLE_MSP_ID = ""
    response = text(client, "hi")
    assert response.status_code == 503
    assert response.json()["code"] == "not_configured"


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("", 401),
        (apple_token(secret=b"another secret of 32 bytes long!"), 403),
        (apple_token(aud="someone-else"), 403),
        (apple_token(aud=None), 403),
        (apple_token(secret=device.MSP_SECRET * 2, algorithm="HS512"), 403),
        (apple_token(exp=1_000_000), 403),
        ("not.a.jwt", 403),
    ],
    ids=["missing", "signature", "audience", "no-audience", "algorithm", "expired", "garbage"],
)
def test_a_message_without_apples_jwt_is_refused_and_nothing_stored(
    client, msp, apple_channel, token, status
):
    assert text(client, "hi", token=token).status_code == status
    assert not Message.objects.exists()


def test_an_unsigned_token_is_refused(client, msp, apple_channel):
    unsigned = jwt.encode({"aud": device.MSP_ID}, key=None, algorithm="none")
    assert text(client, "hi", token=unsigned).status_code == 403


def test_an_unknown_business_is_404(client, msp, apple_channel):
    response = text(client, "hi", business_id="someone-else")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "document",
    [
        b"not json",
        b"[1, 2]",
        b'{"type": 1}',
        b'{"type": "text", "type": "text", "body": "x"}',
        b'{"type": "text", "body": NaN}',
        b'{"type": "text"}',
        b'{"type": "text", "body": ""}',
        b'{"type": "interactive"}',
        b'{"type": "interactive", "interactiveData": {"data": {"authenticate": 1}}}',
        b"\xff\xfe",
    ],
)
def test_a_malformed_body_is_400_and_handled_later_when_fixed(client, msp, apple_channel, document):
    message_id = str(uuid.uuid4())
    assert post(client, document, message_id=message_id).status_code == 400
    assert not AppleReceipt.objects.exists()
    # Nothing of the refused attempt stays: the same id, well formed, is handled.
    assert text(client, "fixed", message_id=message_id).status_code == 200


def test_malformed_headers_are_400(client, msp, apple_channel):
    assert text(client, "hi", message_id="not-a-uuid").status_code == 400
    assert text(client, "hi", customer="").status_code == 400


def test_a_corrupt_or_cut_gzip_body_is_400(client, msp, apple_channel):
    whole = gzip.compress(b'{"type": "text", "body": "hi"}')
    headers = {**device.headers(), "Content-Encoding": "gzip"}
    for raw in (whole[:-12], b"\x1f\x8b not gzip at all"):
        response = client.post(
            "/apple/message", raw, content_type="application/json", headers=headers
        )
        assert response.status_code == 400


def test_a_body_over_one_mib_is_413_plain_or_compressed(client, msp, apple_channel):
    big = b'{"type": "text", "body": "' + b"x" * (1024 * 1024) + b'"}'
    assert post(client, big, compress=False).status_code == 413
    assert post(client, big).status_code == 413


def test_a_gzip_bomb_is_stopped_at_one_mib_without_inflating_it_all(client, msp, apple_channel):
    bomb = gzip.compress(b" " * (200 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 1024 * 1024
    headers = {**device.headers(), "Content-Encoding": "gzip"}
    tracemalloc.start()
    response = client.post("/apple/message", bomb, content_type="application/json", headers=headers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert response.status_code == 413
    assert peak < 20 * 1024 * 1024
