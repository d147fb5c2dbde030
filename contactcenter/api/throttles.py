"""How often API clients may call: reads and writes counted apart."""

from __future__ import annotations

from oauth2_provider.models import AccessToken
from rest_framework import permissions
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class ApiClientThrottle(SimpleRateThrottle):
    """Requests per API client (OAuth application); session users are not throttled.

    The rate is read per request from REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], so a changed
    setting applies without a restart; a rate of None turns the throttle off.
    """

    methods: frozenset[str] = frozenset()

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        if request.method not in self.methods or not isinstance(request.auth, AccessToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.application_id}


class ApiClientReadThrottle(ApiClientThrottle):
    scope = "api_client_read"
    methods = frozenset(permissions.SAFE_METHODS)


class ApiClientWriteThrottle(ApiClientThrottle):
    scope = "api_client_write"
    methods = frozenset({"POST", "PUT", "PATCH", "DELETE"})
