"""The policy every outbound URL (key URLs, discovery documents, token and userinfo endpoints)
must follow."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def is_allowed_host(host: str) -> bool:
    """Hosts an administrator allowed to be reached over plain http or on private addresses."""
    return host.lower() in {allowed.lower() for allowed in settings.CC_OUTBOUND_ALLOWED_HOSTS}


def url_problem(url: str) -> str | None:
    """Why a URL cannot be fetched by the platform, or None when its form is acceptable.

    Only the form is checked here; the fetcher checks the resolved address at fetch time.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme != "https" and not (parts.scheme == "http" and is_allowed_host(host)):
        return (
            "Use an https URL; plain http is accepted only for hosts listed in "
            "CC_OUTBOUND_ALLOWED_HOSTS."
        )
    if parts.username or parts.password:
        return "Remove the user name and password from the URL."
    return None
