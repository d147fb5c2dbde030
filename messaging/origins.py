"""Whether a page's origin may use a chat widget or the agent console.

Origins are compared by host and port. Widgets live on customers' sites: a widget's origin must
match one of a deployment's allowed domains (a bare host allows it on its scheme's default port,
`host:port` on that port only) or be the platform's own origin. The platform's own origin is
CC_PUBLIC_URL's, else the scheme and Host the request came in with, once the Host has passed
ALLOWED_HOSTS; a request whose Host has not passed is refused whatever its origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from contactcenter import proxies
from contactcenter.lib.errors import Refused
from messaging import domains
from messaging.frames import scope_header, scope_peer

DEFAULT_PORTS = {"http": 80, "https": 443}
# What Django's HttpRequest.get_host() allows when debug is on and ALLOWED_HOSTS is empty.
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def same_place(self, other: Origin | None) -> bool:
        return other is not None and (self.host, self.port) == (other.host, other.port)


@dataclass(frozen=True)
class DeploymentDomains:
    deployment_id: str
    active: bool
    allow_all: bool
    hosts: tuple[str, ...]
    allow_mobile_apps: bool = False

    def allows(self, origin: Origin) -> bool:
        return self.allow_all or any(entry_allows(entry, origin) for entry in self.hosts)


def deployment_domains(widget) -> list[DeploymentDomains]:
    """Where a chat widget's deployments let it run (reads the database)."""
    return [
        DeploymentDomains(
            deployment_id=str(deployment.deployment_id),
            active=deployment.status == deployment.Status.ACTIVE,
            allow_all=deployment.allow_all_domains,
            hosts=tuple(deployment.allowed_domains),
            allow_mobile_apps=deployment.allow_mobile_apps,
        )
        for deployment in widget.deployments.all()
    ]


class OriginRefused(Refused):
    """A page whose origin may not run the widget."""


def parse_origin(value: str | None) -> Origin | None:
    """An Origin header or base URL as scheme, host and port (the scheme's default when none
    is given), or None for a missing, `null` or malformed one."""
    if not value or value == "null":
        return None
    try:
        parts = urlsplit(value)
        host, port = parts.hostname, parts.port
    except ValueError:  # e.g. "http://[x" or a port out of range
        return None
    if parts.scheme not in DEFAULT_PORTS or not host:
        return None
    return Origin(parts.scheme, domains.normalize_host(host), port or DEFAULT_PORTS[parts.scheme])


def entry_allows(entry: str, origin: Origin) -> bool:
    """Whether an allowed-domains entry (`host` or `host:port`) takes the origin."""
    host, _, port = entry.partition(":")
    if port:
        return port.isdigit() and (origin.host, origin.port) == (host, int(port))
    return (origin.host, origin.port) == (host, DEFAULT_PORTS[origin.scheme])


def host_allowed(host: str | None) -> bool:
    """Whether a Host header names this platform (ALLOWED_HOSTS, as Django checks requests)."""
    domain, _ = split_domain_port(host or "")
    allowed = settings.ALLOWED_HOSTS or (DEBUG_HOSTS if settings.DEBUG else [])
    return bool(domain) and validate_host(domain, allowed)


def own_origin(scheme: str, host: str) -> Origin | None:
    """The platform's own origin, for a request that came in with this scheme (`http` or
    `https`) and this Host, which has passed host_allowed()."""
    return parse_origin(settings.CC_PUBLIC_URL or f"{scheme}://{host}")


def socket_own_origin(scope: dict) -> Origin | None:
    """The platform's own origin for a socket's handshake, or None when its Host is not one
    of the platform's."""
    host = scope_header(scope, "host")
    if host is None or not host_allowed(host):
        return None
    scheme = proxies.forwarded_scheme(scope_peer(scope), scope_header(scope, "x-forwarded-proto"))
    return own_origin(scheme or ("https" if scope.get("scheme") == "wss" else "http"), host)


def socket_platform_url(scope: dict) -> str | None:
    """The platform's base URL as a socket's handshake reached it (CC_PUBLIC_URL when set), or
    None when its Host is not one of the platform's."""
    if settings.CC_PUBLIC_URL:
        return settings.CC_PUBLIC_URL
    own = socket_own_origin(scope)
    if own is None:
        return None
    default = own.port == DEFAULT_PORTS[own.scheme]
    host = f"[{own.host}]" if ":" in own.host else own.host
    return f"{own.scheme}://{host}" if default else f"{own.scheme}://{host}:{own.port}"


def check_origin(
    origin: str | None,
    *,
    own: Origin | None,
    deployments: list[DeploymentDomains],
    deployment_id: str | None = None,
) -> DeploymentDomains | None:
    """The deployment the origin matches (None for the platform's own pages). A native app
    sends no Origin (`origin` None): it names its deployment (`deployment_id`), which must
    allow mobile apps.

    Raises OriginRefused with `origin_not_allowed` or `deployment_inactive`.
    """
    if origin is None and deployment_id is not None:
        return check_app(deployments, deployment_id)
    page = parse_origin(origin)
    if page is None:
        raise OriginRefused("origin_not_allowed", "The page's origin is missing or null.")
    candidates = [d for d in deployments if deployment_id in (None, d.deployment_id)]
    matching = [d for d in candidates if d.allows(page)]
    active = [d for d in matching if d.active]
    if active:
        return active[0]
    if page.same_place(own):
        return None
    if matching:
        raise OriginRefused(
            "deployment_inactive", "The deployment for this site is inactive; activate it."
        )
    shown = page.host if page.port == DEFAULT_PORTS[page.scheme] else f"{page.host}:{page.port}"
    raise OriginRefused(
        "origin_not_allowed",
        f"{shown} is not among the deployment's allowed domains; add it in the deployment.",
    )


def check_app(deployments: list[DeploymentDomains], deployment_id: str) -> DeploymentDomains:
    """The deployment a native app (no Origin) names, once it allows mobile apps and is
    active. Raises OriginRefused with `origin_not_allowed` or `deployment_inactive`."""
    named = next((d for d in deployments if d.deployment_id == deployment_id), None)
    if named is None or not named.allow_mobile_apps:
        raise OriginRefused(
            "origin_not_allowed",
            "Without an Origin only a deployment that allows mobile apps may chat; turn on "
            "allow mobile apps for this deployment of the widget.",
        )
    if not named.active:
        raise OriginRefused("deployment_inactive", "The app's deployment is inactive; activate it.")
    return named
