"""The admin's "Test this setting" page: what the setting fetches, fetched now, and the checks
of a pasted token (authsettings.setting_check). Mounted by AuthenticationSettingAdmin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from authsettings.models import AuthenticationSetting
from authsettings.setting_check import Finding, check_setting
from contactcenter.adminsite.record_pages import record_page
from messaging import failure_log

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

TEMPLATE = "admin/authsettings/authenticationsetting/check_setting.html"
Type = AuthenticationSetting.Type
PLANS = {
    Type.OAUTH2_IMPLICIT: "The test fetches the public keys at the key URL, through the guarded "
    "fetcher the platform uses, and tells each key's format, kid, size and expiry and whether "
    "it can verify tokens; given a token, it also runs every check the chat makes.",
    Type.OPENID_CONNECT: "The test fetches the discovery document, through the guarded fetcher "
    "the platform uses, checks its issuer, fetches its JWKS and vets the token endpoint's "
    "address.",
}
PLAN_OF_CODE_FLOWS = (
    "The test vets the address of each URL the platform will call for this setting; nothing is "
    "sent to them."
)


class TokenForm(forms.Form):
    token = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"}),
        help_text="Optional: a token as the page's JavaScript client function hands it to the "
        "widget.",
    )


def check_setting_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str
) -> HttpResponse:
    """GET shows the page and its "Run the test" button; only POST fetches, so neither a page
    view nor a prefetched or cross-site link makes the platform reach out."""
    return record_page(
        model_admin,
        request,
        object_id,
        TEMPLATE,
        lambda setting: _test_context(setting, request),
        needs_change=True,
    )


def _test_context(setting: AuthenticationSetting, request: HttpRequest) -> dict[str, Any]:
    takes_token = setting.authentication_type == Type.OAUTH2_IMPLICIT
    context = {
        "failures": failure_log.summary(setting, now=timezone.now()),
        "title": f"Test {setting}",
        "takes_token": takes_token,
        "plan": PLANS.get(setting.authentication_type, PLAN_OF_CODE_FLOWS),
    }
    if request.method != "POST":
        return {**context, "form": TokenForm(), "report": None}
    form = TokenForm(request.POST if takes_token else None)
    token = form.cleaned_data["token"] if form.is_valid() else ""
    report = check_setting(setting, token=token or None)
    sections = list(report.findings)
    if report.token_checks:
        sections.append(Finding("The token's checks", "", report.token_checks))
    return {**context, "form": form, "report": report, "sections": sections}
