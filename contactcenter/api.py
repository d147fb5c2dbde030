"""What every REST resource shares: who may call it, how often, and how writes are validated.

API clients authenticate with OAuth 2.0 bearer tokens and are held to scopes; staff signed in
to the admin use the browsable API under their Django model permissions. The router lives in
`contactcenter.urls`, since the apps' viewsets import this module.
"""

from __future__ import annotations

import copy
from collections import Counter

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from oauth2_provider.models import AccessToken
from rest_framework import exceptions, permissions, routers, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.validators import UniqueValidator

from contactcenter.authentication import ApiClientAuthentication
from contactcenter.scopes import API_SCOPES

TOKEN_URL = "/o/token/"  # noqa: S105 (a path, not a secret)


class ScopePermission(permissions.DjangoModelPermissions):
    """API clients need the view's scope for the method: `read_scope` for safe methods,
    `write_scope` for the others. People signed in with a session must be staff and hold the
    Django model permission, `view` included."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method not in view.allowed_methods:
            return True  # the view answers 405
        if isinstance(request.auth, AccessToken):
            scope = required_scope(view, request.method)
            return scope is not None and request.auth.allow_scopes([scope])
        return request.user.is_staff and super().has_permission(request, view)


def required_scope(view, method: str) -> str | None:
    if method in permissions.SAFE_METHODS:
        return getattr(view, "read_scope", None)
    return getattr(view, "write_scope", None)


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


class ApiClientOrStaff(permissions.BasePermission):
    """API clients with a token, and staff signed in to the admin (not agents or customers)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, AccessToken):
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


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


class ModelCleanSerializer(serializers.ModelSerializer):
    """A model serializer whose rules are the model's own.

    `validate()` builds the instance the request describes, runs `full_clean()` on it (field
    validators, `clean()`, uniqueness and constraints) and reports Django's errors as DRF's
    `{"field": ["message"]}`. Uniqueness is left to `full_clean()` rather than checked twice.
    Values the model normalizes in `clean()` are the ones saved.
    """

    def get_validators(self) -> list:
        return []

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if "validators" in field_kwargs:
            field_kwargs["validators"] = [
                validator
                for validator in field_kwargs["validators"]
                if not isinstance(validator, UniqueValidator)
            ]
        return field_class, field_kwargs

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        many = {field.name for field in self.Meta.model._meta.many_to_many}
        instance = self.build_instance({k: v for k, v in attrs.items() if k not in many})
        try:
            self.clean_instance(instance, {k: v for k, v in attrs.items() if k in many})
        except DjangoValidationError as error:
            raise serializers.ValidationError(api_errors(error)) from None
        return {name: attrs[name] if name in many else getattr(instance, name) for name in attrs}

    def build_instance(self, values: dict):
        """The record as it would be saved; the stored one is left untouched."""
        if self.instance is None:
            return self.Meta.model(**values)
        instance = copy.copy(self.instance)
        for name, value in values.items():
            setattr(instance, name, value)
        return instance

    def clean_instance(self, instance, relations: dict) -> None:
        """Run the model's rules; subclasses add the rules on many-to-many relations."""
        instance.full_clean()


def api_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """Django's errors keyed by field. A clash with a unique constraint over several fields
    (workstream and name) is reported on the last of them, the one a client would change."""
    detail: dict[str, list[str]] = {}
    for field, errors in error.update_error_dict({}).items():
        for item in errors:
            key = field
            if field == NON_FIELD_ERRORS:
                if item.code == "unique_together":
                    key = item.params["unique_check"][-1]
                else:
                    key = api_settings.NON_FIELD_ERRORS_KEY
            detail.setdefault(key, []).extend(item.messages)
    return detail


def contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


class StorableJSONField(serializers.JSONField):
    """JSON as PostgreSQL's jsonb can store it: without NUL characters."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if contains_nul(value):
            raise serializers.ValidationError("Text cannot contain NUL characters.")
        return value


@extend_schema_field({"type": "object", "additionalProperties": {}})
class ObjectField(StorableJSONField):
    """A JSON object; what it may hold is the model's rule."""


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
