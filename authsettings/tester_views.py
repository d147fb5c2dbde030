"""The admin's "Test this setting" page: what the setting fetches, fetched now, and the checks
of a pasted token (authsettings.checkup). Mounted by AuthenticationSettingAdmin.get_urls()."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import HttpRequest, HttpResponse

from authsettings.checkup import Finding, check_setting
from authsettings.models import AuthenticationSetting
from contactcenter.admin_pages import record_page

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
    return record_page(
        model_admin,
        request,
        object_id,
        TEMPLATE,
        lambda setting: _test_context(setting, request),
        needs_change=True,
    )


def _test_context(setting: AuthenticationSetting, request: HttpRequest) -> dict[str, Any]:
    takes_token = setting.authentication_type == AuthenticationSetting.Type.OAUTH2_IMPLICIT
    token = None
    form = TokenForm(request.POST if request.method == "POST" and takes_token else None)
    if form.is_valid():
        token = form.cleaned_data["token"]
    report = check_setting(setting, token=token)
    sections = list(report.findings)
    if report.token_checks:
        sections.append(Finding("The token's checks", "", report.token_checks))
    return {
        "title": f"Test {setting}",
        "report": report,
        "sections": sections,
        "takes_token": takes_token,
        "form": form,
    }
