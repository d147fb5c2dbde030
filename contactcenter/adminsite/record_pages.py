"""Admin pages of a model beside Django's own (STYLE.md "Admin and wizards"): where they are
mounted, and the read-only pages about one record (the wizards' last pages, the setting
tester)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext


def admin_path(model_admin, route: str, view: Callable, name: str) -> URLPattern:
    """A page of `model_admin` at `route`, behind the admin's sign-in, named as Django names
    its own (`<app>_<model>_<name>`); get_urls() puts these before the admin's own URLs."""
    opts = model_admin.opts
    return path(
        route,
        model_admin.admin_site.admin_view(view),
        name=f"{opts.app_label}_{opts.model_name}_{name}",
    )


def record_page(
    model_admin,
    request,
    object_id: str,
    template: str,
    context_of: Callable[[Any], dict[str, Any]],
    *,
    needs_change: bool = False,
):
    """Render `template` for the record with `object_id`, for users who may view it (change
    it, with `needs_change`), with the admin's context, `original` and what
    `context_of(record)` adds (its `title` included)."""
    record = model_admin.get_object(request, unquote(object_id))
    allowed = (
        model_admin.has_change_permission
        if needs_change
        else model_admin.has_view_or_change_permission
    )
    if not allowed(request, record):
        raise PermissionDenied
    if record is None:
        return missing_record_redirect(model_admin, request, object_id)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": record,
        **context_of(record),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, template, context)


def missing_record_redirect(model_admin, request, object_id: str) -> HttpResponseRedirect:
    """To the admin's home with a warning, in the change form's words for a record that does
    not exist."""
    # Django's own message, so that its translations apply.
    text = "%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?"  # noqa: RUF001
    message = gettext(text) % {"name": model_admin.opts.verbose_name, "key": unquote(object_id)}
    model_admin.message_user(request, message, messages.WARNING)
    return HttpResponseRedirect(reverse("admin:index", current_app=model_admin.admin_site.name))
