"""The API's rates per client come from the environment; 0 turns one off."""

from __future__ import annotations

import pytest

from tests.helpers import settings_of

RATES = "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']"
WORKSTREAM = {"name": "Web chat", "channel_type": "live_chat"}


def test_the_rates_default_to_600_reads_and_120_writes_a_minute():
    result = settings_of({}, RATES)
    assert (
        result.stdout.strip()
        == "{'api_client_read': '600/minute', 'api_client_write': '120/minute'}"
    )


def test_the_rates_follow_the_environment_and_0_turns_one_off():
    result = settings_of({"CC_API_READS_PER_MINUTE": "30", "CC_API_WRITES_PER_MINUTE": "0"}, RATES)
    assert result.stdout.strip() == "{'api_client_read': '30/minute', 'api_client_write': None}"


def test_a_rate_that_is_not_a_number_stops_the_platform_from_starting():
    result = settings_of({"CC_API_WRITES_PER_MINUTE": "lots"}, RATES)
    assert result.returncode != 0
    assert "CC_API_WRITES_PER_MINUTE must be a whole number, not 'lots'" in result.stderr


@pytest.fixture
def writes_unlimited(settings):
    """What CC_API_READS_PER_MINUTE=2 and CC_API_WRITES_PER_MINUTE=0 make."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_client_read": "2/minute", "api_client_write": None},
    }


def test_a_limit_turned_off_lets_a_client_write_as_much_as_it_needs(api, writes_unlimited):
    created = [
        api.post("/api/v1/workstreams/", {**WORKSTREAM, "name": f"Chat {n}"}) for n in range(5)
    ]

    assert [response.status_code for response in created] == [201] * 5
    assert [api.get("/api/v1/workstreams/").status_code for _ in range(3)] == [200, 200, 429]
