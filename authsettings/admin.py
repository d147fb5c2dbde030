from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from authsettings.forms import AuthenticationSettingForm
from authsettings.models import AuthenticationSetting
from authsettings.setting_check_page import check_setting_view
from authsettings.wizard import AuthenticationSettingWizard
from contactcenter.adminsite.history import HistoryAdmin
from contactcenter.adminsite.record_pages import admin_path, record_page
from messaging import failure_log
from messaging.domains import platform_url


@admin.register(AuthenticationSetting)
class AuthenticationSettingAdmin(HistoryAdmin):
    form = AuthenticationSettingForm
    list_display = [
        "name",
        "channel_type",
        "authentication_type",
        "owner",
        "secret_is_set",
        "modified_at",
    ]
    list_filter = ["channel_type", "authentication_type"]
    list_select_related = ["owner"]
    search_fields = ["name", "client_id", "public_key_url", "discovery_uri"]
    change_form_template = "admin/authsettings/authenticationsetting/change_form.html"
    autocomplete_fields = ["owner"]
    filter_horizontal = ["rich_messages"]
    readonly_fields = ["client_secret_changed_at", "created_at", "modified_at"]
    fieldsets = [
        (
            None,
            {"fields": ["name", "owner", "channel_type", "authentication_type", "link_contacts"]},
        ),
        (
            "OAuth 2.0 implicit flow",
            {
                "fields": [
                    "public_key_url",
                    "javascript_client_function",
                    "expected_issuer",
                    "expected_audience",
                ]
            },
        ),
        (
            "Code flows",
            {
                "fields": [
                    "token_custom_action",
                    "token_url",
                    "redirect_url",
                    "discovery_uri",
                    "client_id",
                    "client_secret",
                    "remove_client_secret",
                    "client_secret_changed_at",
                    "scope",
                    "max_refresh_token_lifetime_seconds",
                ]
            },
        ),
        (
            "Apple Messages for Business",
            {
                "fields": [
                    "access_token_url",
                    "decrypted_token_url",
                    "additional_parameters",
                    "access_token_expiry_seconds",
                    "rich_messages",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "modified_at"]}),
    ]

    def get_urls(self):
        return [
            admin_path(self, "add/", self.wizard_view, "add"),
            admin_path(self, "<path:object_id>/test/", self.check_view, "test"),
            admin_path(
                self,
                "<path:object_id>/redirect-information/",
                self.redirect_information_view,
                "redirect",
            ),
            *super().get_urls(),
        ]

    def wizard_view(self, request):
        """The "New authentication setting" wizard, in place of the add form."""
        return AuthenticationSettingWizard.as_view(model_admin=self)(request)

    def check_view(self, request, object_id):
        """ "Test this setting": the setting check, run from its change page."""
        return check_setting_view(self, request, object_id)

    def redirect_information_view(self, request, object_id):
        """The wizard's last page for an Apple Messages for Business OpenID Connect flow: the
        redirect URL to add to the provider's allowed callback URLs."""
        return record_page(
            self,
            request,
            object_id,
            "admin/authsettings/authenticationsetting/redirect_information.html",
            lambda setting: {
                "title": "Redirect information",
                "redirect_url": redirect_url(setting, request),
            },
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["redirect_url"] = redirect_url(obj, request)
        if obj is not None:
            context["failures"] = failure_log.summary(obj, now=timezone.now())
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(boolean=True, description="Secret set")
    def secret_is_set(self, obj: AuthenticationSetting) -> bool:
        return obj.client_secret_set

    def may_change_fields(self, request, current, version) -> bool:
        """Where a stored client secret is sent moves only with the permission to set
        secrets, as in the change form."""
        values = {name: getattr(version, name) for name in current.SECRET_BOUND_FIELDS}
        return current.may_set_secrets(request.user) or not current.secret_bound_changes(values)

    def get_fieldsets(self, request, obj=None):
        """Without the right to change the record every field is shown read-only, and a
        read-only secret would be shown decrypted: viewers get neither secret box. The box
        to remove a secret appears only where one is stored."""
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set()
        if not self.has_change_permission(request, obj):
            hidden = {"client_secret", "remove_client_secret"}
        elif obj is None or not obj.client_secret:
            hidden = {"remove_client_secret"}
        return [
            (title, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for title, options in fieldsets
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class FormForUser(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, user=request.user, **form_kwargs)

        return FormForUser

    def save_model(self, request, obj, form, change):
        if not change and obj.owner_id is None:
            obj.owner = request.user
        super().save_model(request, obj, form, change)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        return initial


def redirect_url(setting: AuthenticationSetting | None, request) -> str | None:
    """The URL to add to the provider's allowed callback URLs, for a setting that has one."""
    return setting.redirect_url_at(platform_url(request)) if setting is not None else None
