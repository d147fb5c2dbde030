"""The API clients' bearer tokens and scopes as the OpenAPI schema describes them (registered
with drf-spectacular when the app is ready)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from contactcenter.api.authentication import ApiClientAuthentication
from contactcenter.api.permissions import required_scope
from contactcenter.api.scopes import API_SCOPES

TOKEN_URL = "/o/token/"  # noqa: S105 (a path, not a secret)


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the bearer tokens and the scope each operation needs in the schema."""

    target_class = ApiClientAuthentication
    name = "oauth2"

    def get_security_requirement(self, auto_schema):
        scope = required_scope(auto_schema.view, auto_schema.method)
        return {self.name: [scope] if scope else []}

    def get_security_definition(self, auto_schema):
        descriptions = settings.OAUTH2_PROVIDER["SCOPES"]
        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": TOKEN_URL,
                    "scopes": {scope: descriptions.get(scope, scope) for scope in API_SCOPES},
                }
            },
        }
