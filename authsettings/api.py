"""REST endpoints for authentication settings."""

from __future__ import annotations

from oauth2_provider.models import AccessToken
from rest_framework.exceptions import PermissionDenied

from authsettings.forms import SECRET_PERMISSION
from authsettings.models import AuthenticationSetting
from authsettings.serializers import AuthenticationSettingSerializer
from contactcenter.api import ConfigViewSet, save_checked


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
        """API clients with config:write may set secrets; people need the permission to."""
        if "client_secret" not in serializer.validated_data:
            return
        if isinstance(self.request.auth, AccessToken):
            return
        if not self.request.user.has_perm(SECRET_PERMISSION):
            raise PermissionDenied("Setting a client secret needs the permission to set secrets.")
