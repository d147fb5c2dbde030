"""The API speaks JSON only, and an API client that sends too much is slowed down with 429."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

WORKSTREAM = {"name": "Support", "channel_type": "live_chat"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "name=Support&channel_type=live_chat"),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nSupport\r\n--x--\r\n',
        ),
        ("text/plain", '{"name": "Support", "channel_type": "live_chat"}'),
        ("application/xml", "<workstream><name>Support</name></workstream>"),
    ],
)
def test_a_body_that_is_not_json_is_unsupported(api, content_type, body):
    response = api.generic("POST", "/api/v1/workstreams/", body, content_type=content_type)
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_staff_also_send_json_from_the_browsable_api(alice):
    client = Client()
    client.login(username="alice", password=PASSWORD)
    form = client.post("/api/v1/workstreams/", WORKSTREAM)
    assert form.status_code == 415
    json = client.post("/api/v1/workstreams/", WORKSTREAM, content_type="application/json")
    assert json.status_code == 201


@pytest.mark.parametrize("body", ['{"name": ', "[" * 100_000])
def test_malformed_json_is_a_bad_request(api, body):
    response = api.generic("POST", "/api/v1/workstreams/", body, content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_client_read": "3/minute", "api_client_write": "1/minute"},
    }


def test_an_api_client_over_its_read_rate_is_told_when_to_come_back(api_client_for, low_rates):
    client = api_client_for("config:read config:write")
    for _ in range(3):
        assert client.get("/api/v1/workstreams/").status_code == 200
    response = client.get("/api/v1/workstreams/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "throttled" in response.json()["detail"]
    assert client.post("/api/v1/workstreams/", WORKSTREAM).status_code == 201


def test_writes_have_their_own_smaller_budget(api_client_for, low_rates):
    client = api_client_for("config:read config:write")
    assert client.post("/api/v1/workstreams/", WORKSTREAM).status_code == 201
    assert client.post("/api/v1/workstreams/", WORKSTREAM).status_code == 429
    assert client.get("/api/v1/workstreams/").status_code == 200


def test_each_api_client_has_its_own_budget_and_staff_are_not_throttled(
    api_client_for, low_rates, alice
):
    first, second = api_client_for("config:read"), api_client_for("config:read")
    for _ in range(3):
        first.get("/api/v1/workstreams/")
    assert first.get("/api/v1/workstreams/").status_code == 429
    assert second.get("/api/v1/workstreams/").status_code == 200
    staff = Client()
    staff.login(username="alice", password=PASSWORD)
    assert all(staff.get("/api/v1/workstreams/").status_code == 200 for _ in range(5))


def test_the_default_rates_let_a_busy_client_work(api):
    assert all(api.get("/api/v1/workstreams/").status_code == 200 for _ in range(30))
