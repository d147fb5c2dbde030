"""The process's one client of the shared cache.

Django keeps a cache object per thread and per async context, so every socket (a task of its
own) would build its own client and, on Redis, its own connection pool: ten thousand sockets
would hold ten thousand Redis connections. The platform asks the shared cache through this
one client instead; Django's Redis and local-memory backends are safe to share across threads.
"""

from __future__ import annotations

from django.core.cache import caches
from django.utils.functional import SimpleLazyObject

cache = SimpleLazyObject(lambda: caches.create_connection("default"))
