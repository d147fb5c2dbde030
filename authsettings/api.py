"""REST endpoints for authentication settings."""

from __future__ import annotations

from oauth2_provider.models import AccessToken
from rest_framework.exceptions import PermissionDenied

from authsettings.models import AuthenticationSetting
from authsettings.serializers import AuthenticationSettingSerializer
from contactcenter.api.views import ConfigViewSet, save_checked


class AuthenticationSettingViewSet(ConfigViewSet):
    queryset = AuthenticationSetting.objects.select_related("owner").prefetch_related(
        "rich_messages"
    )
    serializer_class = AuthenticationSettingSerializer
    filterset_fields = ["channel_type", "authentication_type"]

    def perform_create(self, serializer) -> None:
        self.check_secret_permission(serializer)
        save_checked(serializer, owner=self.request.user)

    def perform_update(self, serializer) -> None:
        self.check_secret_permission(serializer)
        save_checked(serializer)

    def check_secret_permission(self, serializer) -> None:
        """API clients with config:write may set secrets and say where they are sent; people
        need the permission to set secrets for either."""
        if isinstance(self.request.auth, AccessToken):
            return
        if AuthenticationSetting.may_set_secrets(self.request.user):
            return
        values = serializer.validated_data
        if "client_secret" in values:
            raise PermissionDenied("Setting a client secret needs the permission to set secrets.")
        stored = serializer.instance
        if stored is not None:
            moved = stored.secret_bound_changes(values)
            if moved:
                raise PermissionDenied(
                    f"Changing {', '.join(moved)} would send the stored client secret "
                    "elsewhere; it needs the permission to set secrets."
                )
