"""Documents fetched from outside URLs (key documents, discovery documents), kept in Django's
cache, shared by a cluster, as plain data.

A document is trusted for CC_KEY_CACHE_SECONDS. When a fetch fails, the URL is left alone for
RETRY_SECONDS and the last good document, kept LAST_GOOD_SECONDS, stays in use meanwhile; with
none to fall back on, the failure is told again until the retry.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from contactcenter.lib.errors import Refused
from contactcenter.lib.shared_cache import cache

logger = logging.getLogger(__name__)

RETRY_SECONDS = 30
LAST_GOOD_SECONDS = 24 * 3600


class Unavailable(Refused):
    """A document that could not be had or used, as its loader told it."""


@dataclass(frozen=True)
class Document:
    fetched_at: float
    data: Any

    def is_fresh(self, now: float) -> bool:
        return now - self.fetched_at < settings.CC_KEY_CACHE_SECONDS


@dataclass(frozen=True)
class LastGood:
    """The documents of one kind. Bump the version in `prefix` when their data changes shape,
    so old processes and new ones do not mix."""

    prefix: str
    what: str

    def cache_key(self, kind: str, url: str) -> str:
        return f"{self.prefix}:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"

    def get(self, url: str) -> Document | None:
        """The last good document of `url`, fresh or not."""
        stored = cache.get(self.cache_key("held", url))
        return None if stored is None else Document(stored["fetched_at"], stored["data"])

    def refresh(
        self, url: str, now: float, load: Callable[[], Any], held: Document | None
    ) -> tuple[Document, bool]:
        """Load the document unless a fetch is under way elsewhere or failed within
        RETRY_SECONDS, falling back on `held`. Returns the document and whether the URL was
        tried.

        Raises Unavailable, as `load` does, when there is nothing to fall back on.
        """
        attempt_key = self.cache_key("attempt", url)
        standing = claim(attempt_key, now, RETRY_SECONDS)
        if standing is not None:
            if held is not None:
                return held, False
            if standing["error"]:
                raise Unavailable(*standing["error"])
        try:
            data = load()
        except Unavailable as error:
            cache.set(attempt_key, {"at": now, "error": (error.code, error.detail)}, RETRY_SECONDS)
            if held is None:
                raise
            logger.warning("Keeping the %s fetched before: %s", self.what, error.detail)
            return held, True
        cache.delete(attempt_key)
        cache.set(self.cache_key("held", url), {"fetched_at": now, "data": data}, LAST_GOOD_SECONDS)
        return Document(now, data), True


def claim(key: str, now: float, seconds: float) -> dict[str, Any] | None:
    """Claim an action that may run once per `seconds` across the cluster.

    Returns None when claimed, or the standing claim ({"at", "error"}) of whoever holds it.
    """
    mine = {"at": now, "error": None}
    if cache.add(key, mine, seconds):
        return None
    standing = cache.get(key)
    if standing is None or now - standing["at"] >= seconds:
        cache.set(key, mine, seconds)
        return None
    return standing
