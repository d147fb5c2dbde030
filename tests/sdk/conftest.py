"""The transport SDK against the whole platform served by daphne (tests/live.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import load_demo, serving_platform


@pytest.fixture(scope="package")
def live_url(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[str]:
    with serving_platform(django_db_blocker, tmp_path_factory.mktemp("var")) as server:
        yield server.url


@pytest.fixture
def demo(live_url, transactional_db, monkeypatch) -> str:
    load_demo(live_url, monkeypatch)
    return live_url
