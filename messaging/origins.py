"""Whether a page's origin may run a chat widget.

Widgets live on customers' sites, so this is not Django's ALLOWED_HOSTS: a widget's origin must
match a deployment's allowed domains, or be the platform's own host.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from contactcenter.errors import CodedError
from messaging import domains


@dataclass(frozen=True)
class DeploymentDomains:
    deployment_id: str
    active: bool
    allow_all: bool
    hosts: tuple[str, ...]


def deployment_domains(widget) -> list[DeploymentDomains]:
    """Where a chat widget's deployments let it run (reads the database)."""
    return [
        DeploymentDomains(
            deployment_id=str(deployment.deployment_id),
            active=deployment.status == deployment.Status.ACTIVE,
            allow_all=deployment.allow_all_domains,
            hosts=tuple(deployment.allowed_domains),
        )
        for deployment in widget.deployments.all()
    ]


class OriginRefused(CodedError):
    """A page whose origin may not run the widget."""


def origin_host(origin: str | None) -> str | None:
    """The host of an Origin header, or None for a missing, `null` or malformed one."""
    if not origin or origin == "null":
        return None
    try:
        parts = urlsplit(origin)
        host = parts.hostname
    except ValueError:  # e.g. "http://[x"
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return domains.normalize(host)


def check_origin(
    origin: str | None,
    *,
    own_host: str | None,
    deployments: list[DeploymentDomains],
    deployment_id: str | None = None,
) -> DeploymentDomains | None:
    """The deployment the origin matches (None for the platform's own pages).

    Raises OriginRefused with `origin_not_allowed` or `deployment_inactive`.
    """
    host = origin_host(origin)
    if host is None:
        raise OriginRefused("origin_not_allowed", "The page's origin is missing or null.")
    candidates = [d for d in deployments if deployment_id in (None, d.deployment_id)]
    matching = [d for d in candidates if d.allow_all or host in d.hosts]
    active = [d for d in matching if d.active]
    if active:
        return active[0]
    if own_host and host == domains.normalize(own_host):
        return None
    if matching:
        raise OriginRefused(
            "deployment_inactive", "The deployment for this site is inactive; activate it."
        )
    raise OriginRefused(
        "origin_not_allowed",
        f"{host} is not among the deployment's allowed domains; add it in the deployment.",
    )
