"""Which scopes an OAuth 2.0 application may ask for."""

from __future__ import annotations

from oauth2_provider.scopes import SettingsScopes

from contactcenter.models import ApiClient

API_SCOPES = ("config:read", "config:write", "conversations:read", "conversations:write")


class ApiClientScopes(SettingsScopes):
    """API clients get only the scopes they were created with; other applications (the
    sample portal's sign-in) get the OpenID Connect scopes, never API scopes."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        all_scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:
            return all_scopes
        try:
            granted = application.api_client.scope_list
        except ApiClient.DoesNotExist:
            return [scope for scope in all_scopes if scope not in API_SCOPES]
        return [scope for scope in all_scopes if scope in granted]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request, *args, **kwargs)
