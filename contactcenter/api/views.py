"""What every REST resource's view shares: authentication, scopes, throttles, filters, and
writes that answer 409 rather than fail on records still in use or changed at the same moment.

API clients authenticate with OAuth 2.0 bearer tokens and are held to scopes; staff signed in
to the admin use the browsable API under their Django model permissions. The router lives in
`contactcenter.urls`, since the apps' viewsets import this module.
"""

from __future__ import annotations

from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, routers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.filters import OrderingFilter, SearchFilter

from contactcenter.api.authentication import ApiClientAuthentication
from contactcenter.api.permissions import ApiClientOrStaff, ScopePermission
from contactcenter.api.throttles import ApiClientReadThrottle, ApiClientWriteThrottle


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record is still in use."
    default_code = "conflict"


class ApiViewMixin:
    """Authentication, scopes, throttles and filters of every API resource."""

    authentication_classes = [ApiClientAuthentication, SessionAuthentication]
    permission_classes = [ScopePermission]
    throttle_classes = [ApiClientReadThrottle, ApiClientWriteThrottle]
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    read_scope: str | None = "config:read"
    write_scope: str | None = "config:write"


class ApiRootView(routers.APIRootView):
    """The index of /api/v1/."""

    authentication_classes = ApiViewMixin.authentication_classes
    permission_classes = [ApiClientOrStaff]


@extend_schema_view(
    destroy=extend_schema(
        responses={204: None, 409: OpenApiResponse(description="Other records still use it.")}
    )
)
class ConfigViewSet(ApiViewMixin, viewsets.ModelViewSet):
    """A configuration resource: read with `config:read`, change with `config:write`;
    searched and ordered by name unless a resource says otherwise."""

    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "modified_at"]

    def perform_create(self, serializer) -> None:
        save_checked(serializer)

    def perform_update(self, serializer) -> None:
        save_checked(serializer)

    def perform_destroy(self, instance) -> None:
        try:
            instance.delete()
        except ProtectedError as error:
            raise Conflict(in_use_message(instance, error.protected_objects)) from None


def save_checked(serializer, **extra) -> None:
    """Save, turning a uniqueness race the model's checks could not see (two requests at
    once) into a 409 instead of a server error."""
    try:
        with transaction.atomic():
            serializer.save(**extra)
    except IntegrityError:
        raise Conflict(
            "Another request changed the same record at the same moment; retry."
        ) from None


def in_use_message(instance, blockers) -> str:
    counts = Counter(blocker._meta for blocker in blockers)
    users = ", ".join(
        sorted(
            f"{count} {meta.verbose_name if count == 1 else meta.verbose_name_plural}"
            for meta, count in counts.items()
        )
    )
    return f"This {instance._meta.verbose_name} is still used by {users}; change those first."
