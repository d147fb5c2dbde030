"""How API clients authenticate (a module of its own: settings name it as DRF's default, and
DRF imports it while its views are still loading)."""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import OAuth2Authentication


class ApiClientAuthentication(OAuth2Authentication):
    """Bearer tokens from the platform's authorization server.

    A client-credentials token has no user of its own; requests act as the API client's user,
    which `create_api_client` makes, so `owner` and the history name the client. The token is
    read from the Authorization header only: one in the URL or the body would land in access
    logs and request dumps, so such a request is anonymous (401).
    """

    def authenticate(self, request):
        scheme = request.headers.get("Authorization", "").split(" ", 1)[0]
        if scheme.lower() != "bearer":
            return None
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        return user or token.application.user, token
