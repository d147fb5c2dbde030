"""The platform's own authorization server (/o/), beyond django-oauth-toolkit's settings:
plain http redirect URIs only back to the visitor's machine, and ID tokens signed with RS256
only."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from csp.decorators import csp_replace
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import ConnectDiscoveryInfoView

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}

# For the pages whose form leads on to a client's redirect URI on the client's own origin (the
# customers' sign-in page and the consent page): browsers hold a form's redirects to the
# page's form-action, so these pages have none.
leads_to_clients = csp_replace({"form-action": None})


def redirect_uri_is_safe(uri: str) -> bool:
    """https anywhere; plain http only to a loopback address (RFC 8252 §7.3)."""
    parts = urlsplit(uri)
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


class PlatformValidator(OAuth2Validator):
    """Refuses an http redirect URI off loopback at /o/authorize, even one registered."""

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs) -> bool:
        return redirect_uri_is_safe(redirect_uri) and super().validate_redirect_uri(
            client_id, redirect_uri, request, *args, **kwargs
        )


class DiscoveryView(ConnectDiscoveryInfoView):
    """The discovery document, advertising RS256 only: an HS256 ID token is signed with the
    client secret, which the platform keeps only hashed."""

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        document = json.loads(response.content)
        document["id_token_signing_alg_values_supported"] = [Application.RS256_ALGORITHM]
        response.content = json.dumps(document)
        return response
