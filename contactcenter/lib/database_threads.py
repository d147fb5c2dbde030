"""Where the sockets' database work runs.

Channels runs every socket's database work on one thread per process, one call after another.
A call mostly waits on round trips to the database, so on PostgreSQL that one thread sets the
pace of the whole process while it sits idle. There the work runs on a pool of
DATABASE_THREADS threads instead, each keeping a connection of its own (Django's connections
are per thread); a socket still awaits each call before its next, so its own work stays in
order, and writers of one conversation queue on its row lock. SQLite takes one writer at a
time, so there a single thread serves, as Channels has it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from django.conf import settings


@cache
def database_pool() -> ThreadPoolExecutor | None:
    if settings.DATABASE_THREADS <= 1:
        return None
    return ThreadPoolExecutor(settings.DATABASE_THREADS, thread_name_prefix="database")


def in_database(function):
    """`function`, awaitable, run on a database thread (closing stale connections around it)."""
    pool = database_pool()
    if pool is None:
        return database_sync_to_async(function)
    return DatabaseSyncToAsync(function, thread_sensitive=False, executor=pool)
