"""REST endpoints for authentication settings."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from oauth2_provider.models import AccessToken
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied

from authsettings.models import AuthenticationSetting
from authsettings.serializers import AuthenticationSettingSerializer
from contactcenter.api.views import ConfigViewSet, save_checked
from messaging import failure_log
from messaging.models import SignInFailure


class SignInFailureSerializer(serializers.ModelSerializer):
    """A refused sign-in (CONTRACT.md `failures`): never the token or the subject."""

    class Meta:
        model = SignInFailure
        fields = [
            "at",
            "code",
            "detail",
            "channel_instance",
            "deployment",
            "origin_host",
            "kid",
            "iss",
        ]


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

    @extend_schema(responses=SignInFailureSerializer(many=True))
    @action(detail=True, methods=["get"])
    def failures(self, request, pk=None):
        """The setting's refused sign-ins of the last CC_FAILURE_LOG_DAYS days, newest first."""
        setting = self.get_object()
        page = self.paginate_queryset(failure_log.failures_of(setting, now=timezone.now()))
        return self.get_paginated_response(SignInFailureSerializer(page, many=True).data)

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
