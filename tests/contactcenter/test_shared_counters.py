"""The shared counters the limits count with (sockets, starts and failed token requests per
address; the sample portal's Apple entries), on the local-memory cache of one process and
again on Redis (the integration run), where each is one round trip."""

from __future__ import annotations

import time
import uuid

import pytest

from contactcenter.lib.shared_cache import count_down, count_up, keep_counters

pytestmark = pytest.mark.integration


@pytest.fixture
def key() -> str:
    return f"test-counter:{uuid.uuid4().hex}"


def test_a_counter_counts_from_one_and_down_again(key):
    assert [count_up(key, 60) for _ in range(3)] == [1, 2, 3]
    assert count_down(key) == 2
    assert count_up(key, 60) == 3


def test_counting_down_a_counter_that_is_gone_counts_nothing(key):
    assert count_down(key) is None
    assert count_up(key, 60) == 1


def test_a_counter_lives_from_its_first_count(key):
    count_up(key, 1)
    time.sleep(0.6)
    count_up(key, 1)
    time.sleep(0.6)
    assert count_up(key, 1) == 1


def test_a_renewed_counter_lives_from_its_last_count(key):
    count_up(key, 1)
    time.sleep(0.6)
    count_up(key, 1, renew=True)
    time.sleep(0.6)
    assert count_up(key, 1) == 3


def test_kept_counters_live_on_and_one_that_expired_comes_back_at_its_count(key):
    other = f"{key}:other"
    count_up(key, 1)
    count_up(key, 1)
    time.sleep(0.6)

    keep_counters({key: 5, other: 3}, 1)
    time.sleep(0.6)

    assert count_up(key, 1) == 3
    assert count_up(other, 1) == 4


def test_a_count_past_its_limit_is_taken_back_and_renews_nothing(key):
    assert [count_up(key, 1, renew=True, limit=2) for _ in range(3)] == [1, 2, 3]
    time.sleep(0.6)
    assert count_up(key, 1, renew=True, limit=2) == 3
    time.sleep(0.6)
    # The refused counts did not keep the counter alive: it expired a second after its last
    # count within the limit.
    assert count_up(key, 1, renew=True, limit=2) == 1
