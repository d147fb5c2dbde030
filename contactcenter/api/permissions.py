"""Who may call an API resource: API clients by scope, staff by Django model permission."""

from __future__ import annotations

from oauth2_provider.models import AccessToken
from rest_framework import permissions


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


class ApiClientOrStaff(permissions.BasePermission):
    """API clients with a token, and staff signed in to the admin (not agents or customers)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, AccessToken):
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
