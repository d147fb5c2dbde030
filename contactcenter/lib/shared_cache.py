"""The process's one client of the shared cache.

Django keeps a cache object per thread and per async context, so every socket (a task of its
own) would build its own client and, on Redis, its own connection pool: ten thousand sockets
would hold ten thousand Redis connections. The platform asks the shared cache through this
one client instead; Django's Redis and local-memory backends are safe to share across threads.
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

cache = SimpleLazyObject(lambda: caches.create_connection("default"))


@receiver(setting_changed)
def follow_caches_setting(*, setting: str, **kwargs) -> None:
    """A changed CACHES setting gets a new client, as Django's own cache objects do."""
    if setting == "CACHES":
        cache._wrapped = empty
