"""The admin's change history pages for the records that keep one."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_model_for_model


class HistoryAdmin(SimpleHistoryAdmin):
    """A model admin whose records keep a history (who, when, which fields).

    Whoever may view a record sees its history list. A version's page is a form that reverts
    the record to it, so it is only for those who may make that change.
    """

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context=None
    ) -> HttpResponse:
        primary_key(self.model, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context=None
    ) -> HttpResponse:
        history = get_history_model_for_model(self.model)
        version = get_object_or_404(
            history,
            **{
                self.opts.pk.attname: primary_key(self.model, object_id),
                "history_id": primary_key(history, version_id),
            },
        ).instance
        current = self.get_object(request, unquote(object_id))
        if not self.may_revert(request, current, version):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def may_revert(
        self, request: HttpRequest, current: models.Model | None, version: models.Model
    ) -> bool:
        """Reverting changes the record (re-creates it, once deleted), so it needs what the
        change form needs."""
        if self.revert_disabled(request, current) or not self.has_change_permission(
            request, current
        ):
            return False
        if current is None:
            return self.has_add_permission(request)
        return self.may_change_fields(request, current, version)

    def may_change_fields(
        self, request: HttpRequest, current: models.Model, version: models.Model
    ) -> bool:
        """Whether the user may give the record the values `version` holds, beyond the
        permission to change it (for fields a further permission guards)."""
        return True


def primary_key(model: type[models.Model], value: str):
    """`value`, from a URL, as a primary key of `model`. Raises Http404 when it cannot be one."""
    try:
        return model._meta.pk.to_python(unquote(value))
    except ValidationError:
        raise Http404 from None
