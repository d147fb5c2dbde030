"""The admin's "Test this setting" page: what the setting fetches, fetched now, and the checks
of a pasted token (authsettings.checkup). Mounted by AuthenticationSettingAdmin.get_urls()."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from authsettings.checkup import Finding, check_setting
from authsettings.models import AuthenticationSetting

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

TEMPLATE = "admin/authsettings/authenticationsetting/test_setting.html"


class TokenForm(forms.Form):
    token = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"}),
        help_text="A token as the page's JavaScript client function hands it to the widget.",
    )


def test_setting_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """GET fetches what the setting needs and shows it; POST also checks the pasted token."""
    setting = model_admin.get_object(request, unquote(object_id))
    if not model_admin.has_change_permission(request, setting):
        raise PermissionDenied
    if setting is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    takes_token = setting.authentication_type == AuthenticationSetting.Type.OAUTH2_IMPLICIT
    token = None
    form = TokenForm(request.POST if request.method == "POST" and takes_token else None)
    if form.is_valid():
        token = form.cleaned_data["token"]
    report = check_setting(setting, token=token)
    sections = list(report.findings)
    if report.token_checks:
        sections.append(Finding("The token's checks", "", report.token_checks))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Test {setting}",
        "opts": model_admin.opts,
        "original": setting,
        "report": report,
        "sections": sections,
        "takes_token": takes_token,
        "form": form,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
