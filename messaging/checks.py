"""System checks for settings that work on one machine but not in a cluster."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from messaging import origins
from messaging.apple import msp
from messaging.models import ChannelInstance

# Backends that keep their state in one process: (setting, backend, what it is, hint, id).
SINGLE_PROCESS_BACKENDS = (
    (
        "CHANNEL_LAYERS",
        "channels.layers.InMemoryChannelLayer",
        "The in-memory channel layer",
        "Set REDIS_URL so visitors and agents on different processes can talk.",
        "messaging.W001",
    ),
    (
        "CACHES",
        "django.core.cache.backends.locmem.LocMemCache",
        "The local-memory cache",
        "Set REDIS_URL so processes share fetched keys, rate limits and open sockets.",
        "messaging.W002",
    ),
)


@register()
def in_memory_services_without_debug(app_configs, **kwargs):
    if settings.DEBUG:
        return []
    return [
        Warning(f"{what} is in use with debug off.", hint=hint, id=check_id)
        for setting, backend, what, hint, check_id in SINGLE_PROCESS_BACKENDS
        if getattr(settings, setting)["default"]["BACKEND"] == backend
    ]


@register()
def public_url_not_served(app_configs, **kwargs):
    if not settings.CC_PUBLIC_URL:
        return []
    public = origins.parse_origin(settings.CC_PUBLIC_URL)
    if public is not None and origins.host_allowed(public.host):
        return []
    return [
        Warning(
            f"CC_PUBLIC_URL ({settings.CC_PUBLIC_URL}) names a host not in ALLOWED_HOSTS.",
            hint="Add its host to DJANGO_ALLOWED_HOSTS, or every request to it is refused.",
            id="messaging.W003",
        )
    ]


@register(Tags.database)
def apple_without_msp(app_configs, databases=None, **kwargs):
    """Whether Apple channels exist is data, so this runs where the database may be read:
    `migrate`, and `check --database default`."""
    if not databases or msp.is_configured():
        return []
    try:
        apple = ChannelInstance.objects.filter(
            kind=ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS
        ).exists()
    except DatabaseError:  # not migrated yet: nothing to warn about
        return []
    if not apple:
        return []
    return [
        Warning(
            "Apple Messages for Business channels exist, but CC_APPLE_MSP_ID or "
            "CC_APPLE_MSP_SECRET is unset.",
            hint="Set both to the MSP id and secret Apple gave you; until then "
            "/apple/message answers 503 and nothing is sent to Apple.",
            id="messaging.W004",
        )
    ]
