"""Admin forms for authentication settings."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from authsettings import token_actions
from authsettings.models import AuthenticationSetting


class SecretField(forms.CharField):
    """A write-only secret: never rendered back, empty means "keep what is stored"."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", True)
        kwargs.setdefault("widget", forms.PasswordInput(render_value=False))
        super().__init__(**kwargs)


class AuthenticationSettingForm(forms.ModelForm):
    client_secret = SecretField(label="Client secret")
    remove_client_secret = forms.BooleanField(
        required=False, label="Remove the stored client secret"
    )

    class Meta:
        model = AuthenticationSetting
        fields = [
            "name",
            "owner",
            "channel_type",
            "authentication_type",
            "public_key_url",
            "javascript_client_function",
            "expected_issuer",
            "expected_audience",
            "link_contacts",
            "token_custom_action",
            "token_url",
            "redirect_url",
            "discovery_uri",
            "client_id",
            "client_secret",
            "scope",
            "access_token_url",
            "decrypted_token_url",
            "additional_parameters",
            "access_token_expiry_seconds",
            "max_refresh_token_lifetime_seconds",
            "rich_messages",
        ]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        stored = bool(self.instance.client_secret)
        may_set = AuthenticationSetting.may_set_secrets(user)
        # The stored secret never reaches a rendered form, not even as initial data.
        self.initial["client_secret"] = ""
        secret = self.fields["client_secret"]
        secret.help_text = (
            "A secret is stored; leave empty to keep it." if stored else "No secret is stored."
        )
        if not may_set and stored:
            # The secret would follow these to wherever they point.
            # A viewer's form has none of them: the admin shows the record read-only.
            for name in AuthenticationSetting.SECRET_BOUND_FIELDS & self.fields.keys():
                field = self.fields[name]
                field.disabled = True
                field.help_text = "Changing it needs the permission to set secrets."
        if not may_set:
            secret.disabled = True
            secret.help_text += " Setting or changing it needs the permission to set secrets."
            self.fields["remove_client_secret"].disabled = True
        if not stored:
            del self.fields["remove_client_secret"]
        if self.instance.callback_path and "redirect_url" in self.fields:
            redirect = self.fields["redirect_url"]
            redirect.disabled = True
            redirect.help_text = "Set by the platform: see Redirect information below."
        if "token_custom_action" in self.fields:
            self.fields["token_custom_action"].widget = forms.Select(
                choices=[("", "---------")] + [(name, name) for name in token_actions.names()]
            )

    def clean_client_secret(self) -> str:
        return self.cleaned_data.get("client_secret") or self.instance.client_secret

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("remove_client_secret"):
            cleaned["client_secret"] = ""
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        if "rich_messages" in self.cleaned_data and not self.has_error("authentication_type"):
            try:
                self.instance.validate_rich_messages(self.cleaned_data["rich_messages"])
            except ValidationError as error:
                self._update_errors(error)
