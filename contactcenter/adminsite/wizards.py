"""Multi-step admin wizards (STYLE.md "Admin and wizards").

A wizard is a django-formtools SessionWizardView run by a ModelAdmin method that get_urls()
mounts through admin_site.admin_view. Each step is a form with a `title`; steps that build one
record are ModelStepForms, so the model's own rules check every step and each error shows on
the step that holds its field. The last step is a SummaryForm listing what was entered.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.auth import get_permission_codename
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    PermissionDenied,
    SuspiciousOperation,
    ValidationError,
)
from django.db import models
from django.forms.utils import pretty_name
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from formtools.wizard.views import SessionWizardView


class ModelStepForm(forms.ModelForm):
    """Some fields of a record whose other fields come from earlier steps (`earlier`).

    The model's full rules run on the whole record as entered so far; the step keeps the
    errors of its own fields and leaves those of later steps to them.
    """

    title: ClassVar[str] = ""

    def __init__(self, *args, earlier: dict[str, Any] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, value in (earlier or {}).items():
            setattr(self.instance, name, value)

    def _update_errors(self, errors: ValidationError) -> None:
        if not hasattr(errors, "error_dict"):
            super()._update_errors(errors)
            return
        # A field the form already refused keeps its own error: the model saw a stand-in.
        own = {
            field: messages
            for field, messages in errors.error_dict.items()
            if (field in self.fields and field not in self.errors) or field == NON_FIELD_ERRORS
        }
        if own:
            super()._update_errors(ValidationError(own))


class AddRelatedWrapper(RelatedFieldWidgetWrapper):
    """A step's choice of related records with the admin's + link: the record's add form opens
    in a popup with `preset` filled in, and the new record comes back selected, so a user
    without one is not stuck."""

    def __init__(self, widget, model_field, user, preset: dict[str, str]) -> None:
        related = model_field.remote_field
        add = (
            f"{related.model._meta.app_label}.{get_permission_codename('add', related.model._meta)}"
        )
        super().__init__(widget, related, admin.site, can_add_related=user.has_perm(add))
        self.preset = preset

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["url_params"] += f"&{urlencode(self.preset)}"
        return context


class SummaryForm(forms.Form):
    """The last step: nothing to enter, the page lists every value before Finish."""

    title = "Summary"


class AdminWizardView(SessionWizardView):
    """A wizard inside the admin of `model_admin`'s model, for users who may add to it.

    Subclasses give `form_list`, `condition_dict`, `required_permissions` (beyond adding to
    the model), `summary_rows()` and `create(form_dict)`, which saves and returns the record
    (and appends any other record it adds to `self.added`, so each is logged).
    """

    template_name = "admin/wizard.html"
    model_admin = None
    title = ""
    required_permissions: ClassVar[tuple[str, ...]] = ()

    @method_decorator(sensitive_post_parameters())
    def dispatch(self, request, *args, **kwargs):
        if not self.model_admin.has_add_permission(request) or not request.user.has_perms(
            self.required_permissions
        ):
            raise PermissionDenied
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and not self.model_admin.to_field_allowed(request, to_field):
            raise DisallowedModelAdminToField(f"The field {to_field} cannot be referenced.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def is_popup(self) -> bool:
        return IS_POPUP_VAR in self.request.GET or IS_POPUP_VAR in self.request.POST

    def get_prefix(self, request, *args, **kwargs) -> str:
        # A wizard opened in a popup must not replace the same wizard running in the page.
        prefix = super().get_prefix(request, *args, **kwargs)
        return f"{prefix}_popup" if self.is_popup else prefix

    def post(self, *args, **kwargs):
        """Refuse a step this run does not have (tampered, or skipped by an earlier answer);
        going back keeps what was typed on the step being left, valid or not."""
        posted = self.request.POST.get(f"{self.prefix}-current_step")
        steps = list(self.get_form_list())
        if posted is not None and posted not in steps:
            raise SuspiciousOperation("The wizard has no such step.")
        goto = self.request.POST.get("wizard_goto_step")
        if posted == self.steps.current and goto in steps[: steps.index(posted)]:
            # An earlier step's page reads only the steps before it, and which steps a run
            # has follows from the first one, so what formtools cached stays true.
            form = self.get_form(data=self.request.POST, files=self.request.FILES)
            self.storage.set_step_data(posted, self.process_step(form))
        return super().post(*args, **kwargs)

    def process_step(self, form):
        """What the session keeps of a step: its own fields only."""
        data = super().process_step(form).copy()
        for name in [name for name in data if not name.startswith(f"{form.prefix}-")]:
            del data[name]
        return data

    def cleaned(self, step: str) -> dict[str, Any]:
        """What a step holds once valid; empty when it is skipped or not filled yet."""
        if step not in self.get_form_list():
            return {}
        return self.get_cleaned_data_for_step(step) or {}

    def get_form_kwargs(self, step=None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(step)
        form_class = self.get_form_list()[step]
        if issubclass(form_class, ModelStepForm):
            kwargs["earlier"] = self.earlier_values(step)
        return kwargs

    def earlier_values(self, step: str) -> dict[str, Any]:
        """The record's fields given before `step`, set on the step's instance."""
        return {}

    def get_context_data(self, form, **kwargs) -> dict[str, Any]:
        context = super().get_context_data(form, **kwargs)
        opts = self.model_admin.opts
        form_list = self.get_form_list()
        context.update(
            self.model_admin.admin_site.each_context(self.request),
            opts=opts,
            title=self.title,
            step_title=getattr(form, "title", ""),
            step_titles=[form_class.title for form_class in form_list.values()],
            is_popup=self.is_popup,
            is_popup_var=IS_POPUP_VAR,
            to_field=self.request.GET.get(TO_FIELD_VAR) or self.request.POST.get(TO_FIELD_VAR),
            to_field_var=TO_FIELD_VAR,
            adminform=helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], prepopulated_fields={}
            ),
            media=self.model_admin.media + form.media,
            summary_rows=self.summary_rows() if isinstance(form, SummaryForm) else [],
        )
        return context

    def summary_rows(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(step title, [(label, value)]) for the summary page."""
        return []

    def rows_of(self, step: str, *, shown: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """(label, value) of every field of a valid step; `shown` replaces some values."""
        cleaned = self.cleaned(step)
        if not cleaned:
            return []
        rows = []
        for name, field in self.get_form(step=step).fields.items():
            label = str(field.label or pretty_name(name))
            if shown and name in shown:
                rows.append((label, shown[name]))
            else:
                rows.append((label, display(cleaned.get(name), field)))
        return rows

    def done(self, form_list, form_dict=None, **kwargs):
        self.added: list[models.Model] = []
        record = self.create(form_dict)
        for added in [record, *self.added]:
            model_admin = self.model_admin.admin_site.get_model_admin(type(added))
            model_admin.log_addition(self.request, added, [{"added": {}}])
        if self.is_popup:
            return self.model_admin.response_add(self.request, record)
        return self.finish(record)

    def create(self, form_dict) -> models.Model:
        raise NotImplementedError

    def finish(self, record: models.Model):
        """Tell the user and go to the new record."""
        opts = record._meta
        self.model_admin.message_user(
            self.request, f'The {opts.verbose_name} "{record}" was added.'
        )
        return HttpResponseRedirect(
            reverse(
                f"{self.model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=[record.pk],
            )
        )


def display(value: Any, field: forms.Field | None = None) -> str:
    """A cleaned value as the summary shows it: a choice by its label."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        return str(dict(field.choices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, models.QuerySet | list | tuple):
        return ", ".join(str(item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{key} = {item}" for key, item in value.items())
    return str(value)
