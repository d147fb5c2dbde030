"""The "New authentication setting" wizard (the seeds' "Add authentication setting").

Steps: channel type → details of the chosen type → additional details and rich messages (Apple
Messages for Business) → summary. The client secret typed on a details step is kept in the
session only encrypted, and is never rendered back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from authsettings import crypto, token_actions
from authsettings.forms import SecretField
from authsettings.models import AuthenticationSetting
from contactcenter.adminsite.wizards import (
    AddRelatedWrapper,
    AdminWizardView,
    ModelStepForm,
    SummaryForm,
)
from contactcenter.models import ChannelType
from messaging.models import RichMessage

Type = AuthenticationSetting.Type
DEFAULT_TYPE_BY_CHANNEL = {
    ChannelType.LIVE_CHAT: Type.OAUTH2_IMPLICIT,
    ChannelType.APPLE_MESSAGES_FOR_BUSINESS: Type.OAUTH2_CODE,
}


class TypeSelect(forms.Select):
    """Authentication types, each option naming its channel type so the page shows only the
    types that fit the chosen channel (authsettings/wizard.js)."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        for channel, types in AuthenticationSetting.TYPES_BY_CHANNEL.items():
            if value in types:
                option["attrs"]["data-channel-type"] = channel
                option["attrs"]["data-default"] = str(DEFAULT_TYPE_BY_CHANNEL[channel] == value)
        return option


class ChannelStepForm(ModelStepForm):
    title = "Channel type"

    class Meta:
        model = AuthenticationSetting
        fields = ["name", "owner", "channel_type", "authentication_type", "link_contacts"]
        widgets = {"authentication_type": TypeSelect}
        help_texts = {
            "authentication_type": "Only the types that fit the channel type can be chosen.",
        }

    class Media:
        js = ["authsettings/wizard.js"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["channel_type"].choices = ChannelType.choices
        self.fields["authentication_type"].choices = Type.choices

    def clean_authentication_type(self) -> str:
        chosen = self.cleaned_data["authentication_type"]
        needs_secret = AuthenticationSetting.needs_client_secret(chosen)
        if needs_secret and not AuthenticationSetting.may_set_secrets(self.user):
            raise forms.ValidationError(
                "This type needs a client secret, and setting one needs the permission to "
                "set client secrets; ask an administrator for it or choose another type."
            )
        return chosen


class SealedSecretForm(ModelStepForm):
    """A details step with the client secret. The wizard keeps the secret typed last only
    sealed (encrypted) in the session's extra data, never in the step's data, and hands it
    back as `sealed_secret`: leaving the box empty keeps it, even after an error."""

    client_secret = SecretField(label="Client secret")

    def __init__(self, *args, sealed_secret: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.sealed_secret = sealed_secret
        self.fields["client_secret"].help_text = (
            "A secret was entered; leave empty to keep it."
            if sealed_secret
            else "Write-only: it is stored encrypted and never shown again."
        )

    def clean_client_secret(self) -> str:
        typed = self.cleaned_data.get("client_secret")
        if typed:
            return typed
        if self.sealed_secret:
            try:
                return crypto.decrypt(self.sealed_secret)
            except crypto.SecretUnreadable:
                raise forms.ValidationError("Enter the client secret again.") from None
        return ""


class TokenActionSelect(forms.Select):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = [("", "---------")] + [(name, name) for name in token_actions.names()]


class ImplicitDetailsForm(ModelStepForm):
    title = "Details"

    class Meta:
        model = AuthenticationSetting
        fields = [
            "public_key_url",
            "javascript_client_function",
            "expected_issuer",
            "expected_audience",
        ]
        help_texts = {
            "public_key_url": "Where your site publishes the public key(s) its tokens are "
            "signed with: a PEM key, a kid list or a JWKS. The sample portal's is "
            "&lt;portal&gt;/auth/publickey.",
            "javascript_client_function": "The page's function that hands the widget a "
            "token. The sample portal's is auth.getAuthenticationToken.",
            "expected_issuer": "Optional. When set, a token's iss must equal it.",
            "expected_audience": "Optional. When set, a token's aud must contain it.",
        }


class OAuth2DetailsForm(SealedSecretForm):
    title = "Details"

    class Meta:
        model = AuthenticationSetting
        fields = [
            "token_custom_action",
            "token_url",
            "redirect_url",
            "client_id",
            "client_secret",
            "scope",
        ]
        widgets = {"token_custom_action": TokenActionSelect}
        help_texts = {
            "token_custom_action": "Turns the token response into the user id: userinfo "
            "reads the provider's userinfo endpoint, id_token takes sub from a verified id "
            "token; projects register more in CC_TOKEN_ACTIONS.",
            "token_url": "Where the authorization code is exchanged for a token.",
            "redirect_url": "The redirect URL your page sends with the authorization request.",
        }


class OpenIdDetailsForm(SealedSecretForm):
    title = "Details"

    class Meta:
        model = AuthenticationSetting
        fields = [
            "discovery_uri",
            "client_id",
            "client_secret",
            "scope",
            "max_refresh_token_lifetime_seconds",
        ]
        labels = {"max_refresh_token_lifetime_seconds": "Maximum refresh token lifetime"}
        help_texts = {
            "scope": "Space separated; must contain openid, e.g. openid profile email.",
            "max_refresh_token_lifetime_seconds": "In seconds, from 900 (15 minutes) to "
            "7776000 (90 days); 86400 is one day.",
        }


class ParametersField(forms.CharField):
    """Additional parameters as rows of name=value, one per line."""

    widget = forms.Textarea(attrs={"rows": 4, "placeholder": "prompt=login"})

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{name}={item}" for name, item in value.items())
        return value

    def to_python(self, value) -> dict[str, str]:
        parameters: dict[str, str] = {}
        for number, line in enumerate((super().to_python(value) or "").splitlines(), start=1):
            if not line.strip():
                continue
            name, equals, item = line.partition("=")
            if not equals:
                raise forms.ValidationError(
                    f"Line {number}: write each parameter as name=value, e.g. prompt=login."
                )
            if name.strip() in parameters:
                raise forms.ValidationError(f"Line {number}: {name.strip()} is given twice.")
            parameters[name.strip()] = item.strip()
        return parameters


class AppleDetailsForm(SealedSecretForm):
    title = "Details"

    class Meta:
        model = AuthenticationSetting
        fields = ["client_id", "client_secret", "scope", "access_token_url", "decrypted_token_url"]
        labels = {"scope": "Scopes"}
        help_texts = {
            "scope": "Space separated, exactly as your provider names them.",
            "access_token_url": "The provider's endpoint where an access token is requested.",
            "decrypted_token_url": "Where the customer's details requested in the scopes are read.",
        }


class AppleOpenIdDetailsForm(AppleDetailsForm):
    additional_parameters = ParametersField(
        required=False,
        label="Additional parameters",
        help_text="Extra parameters of the authorization request, one name=value per line.",
    )

    class Meta(AppleDetailsForm.Meta):
        fields = [*AppleDetailsForm.Meta.fields, "additional_parameters"]
        help_texts = {
            **AppleDetailsForm.Meta.help_texts,
            "scope": "Space separated, exactly as your provider names them; include openid.",
        }


class AdditionalDetailsForm(ModelStepForm):
    title = "Additional details"

    class Meta:
        model = AuthenticationSetting
        fields = ["access_token_expiry_seconds"]
        labels = {"access_token_expiry_seconds": "Access token expiry (seconds)"}
        help_texts = {
            "access_token_expiry_seconds": "Optional; 3600 (one hour) when left empty. After "
            "this time the conversation's Authenticated field turns to No."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["access_token_expiry_seconds"].required = False

    def clean_access_token_expiry_seconds(self) -> int:
        value = self.cleaned_data.get("access_token_expiry_seconds")
        return value if value is not None else 3600


class RichMessagesForm(forms.Form):
    title = "Rich messages"

    rich_messages = forms.ModelMultipleChoiceField(
        queryset=RichMessage.objects.filter(channel_type=ChannelType.APPLE_MESSAGES_FOR_BUSINESS),
        help_text="Choose one or more; at least one of type authentication. No rich message "
        "yet? Add one with the + link.",
    )

    def __init__(self, *args, earlier=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.setting = AuthenticationSetting(**(earlier or {}))
        field = self.fields["rich_messages"]
        field.widget.attrs["size"] = 8
        field.widget = AddRelatedWrapper(
            field.widget,
            AuthenticationSetting._meta.get_field("rich_messages"),
            user,
            preset={
                "type": RichMessage.Type.AUTHENTICATION,
                "channel_type": ChannelType.APPLE_MESSAGES_FOR_BUSINESS,
            },
        )

    def clean_rich_messages(self):
        chosen = self.cleaned_data["rich_messages"]
        if problems := self.setting.rich_message_problems(chosen):
            raise forms.ValidationError(problems)
        return chosen


def _type_is(*types: str):
    def condition(wizard: AuthenticationSettingWizard) -> bool:
        return wizard.chosen_type() in types

    return condition


class AuthenticationSettingWizard(AdminWizardView):
    title = "Add authentication setting"
    form_list: ClassVar = [
        ("channel", ChannelStepForm),
        ("implicit_details", ImplicitDetailsForm),
        ("oauth2_details", OAuth2DetailsForm),
        ("openid_details", OpenIdDetailsForm),
        ("apple_details", AppleDetailsForm),
        ("apple_openid_details", AppleOpenIdDetailsForm),
        ("additional", AdditionalDetailsForm),
        ("rich_messages", RichMessagesForm),
        ("summary", SummaryForm),
    ]
    condition_dict: ClassVar = {
        "implicit_details": _type_is(Type.OAUTH2_IMPLICIT),
        "oauth2_details": _type_is(Type.OAUTH2),
        "openid_details": _type_is(Type.OPENID_CONNECT),
        "apple_details": _type_is(Type.OAUTH2_CODE),
        "apple_openid_details": _type_is(Type.OAUTH2_OPENID_CONNECT),
        "additional": _type_is(*AuthenticationSetting.APPLE_TYPES),
        "rich_messages": _type_is(*AuthenticationSetting.APPLE_TYPES),
    }

    def chosen_type(self) -> str:
        """The authentication type chosen on the first step, or the one it starts with."""
        return (
            self.cleaned("channel").get("authentication_type")
            or self.get_form_initial("channel")["authentication_type"]
        )

    def get_form_initial(self, step):
        if step != "channel":
            return super().get_form_initial(step)
        channel = self.request.GET.get("channel_type")
        if channel not in AuthenticationSetting.TYPES_BY_CHANNEL:
            channel = ChannelType.LIVE_CHAT
        return {
            "owner": self.request.user.pk,
            "channel_type": channel,
            "authentication_type": DEFAULT_TYPE_BY_CHANNEL[channel],
        }

    def earlier_values(self, step: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        model_fields = {field.name for field in AuthenticationSetting._meta.concrete_fields}
        steps = list(self.get_form_list())
        for earlier in steps[: steps.index(step)]:
            cleaned = self.cleaned(earlier)
            values.update({name: cleaned[name] for name in cleaned if name in model_fields})
        return values

    def get_form_kwargs(self, step=None):
        kwargs = super().get_form_kwargs(step)
        if step in ("channel", "rich_messages"):
            kwargs["user"] = self.request.user
        if step == "rich_messages":
            kwargs["earlier"] = self.earlier_values(step)
        if issubclass(self.get_form_list()[step], SealedSecretForm):
            kwargs["sealed_secret"] = self.storage.extra_data.get(step, "")
        return kwargs

    def post(self, *args, **kwargs):
        """Seal a secret as soon as it is typed, so an error on its step does not lose it."""
        step = self.request.POST.get(f"{self.prefix}-current_step", "")
        typed = self.request.POST.get(f"{step}-client_secret", "").strip()
        if typed and issubclass(self.get_form_list().get(step, SummaryForm), SealedSecretForm):
            self.storage.extra_data[step] = crypto.encrypt(typed)
        return super().post(*args, **kwargs)

    def process_step(self, form):
        data = super().process_step(form)
        if isinstance(form, SealedSecretForm):
            data[form.add_prefix("client_secret")] = ""
        return data

    def summary_rows(self):
        rows = []
        for step, form_class in self.get_form_list().items():
            if form_class is SummaryForm:
                continue
            shown = {
                "client_secret": "set" if self.cleaned(step).get("client_secret") else "not set"
            }
            rows.append((form_class.title, self.rows_of(step, shown=shown)))
        return rows

    def create(self, form_dict) -> AuthenticationSetting:
        setting = AuthenticationSetting(**self.earlier_values("summary"))
        rich_messages = self.cleaned("rich_messages").get("rich_messages", [])
        setting.full_clean()
        setting.validate_rich_messages(rich_messages)
        with transaction.atomic():
            setting.save()
            setting.rich_messages.set(rich_messages)
        return setting

    def finish(self, record: AuthenticationSetting):
        if record.authentication_type != Type.OAUTH2_OPENID_CONNECT:
            return super().finish(record)
        self.model_admin.message_user(
            self.request,
            f'The authentication setting "{record}" was added. Add the redirect URL below to '
            "your provider's allowed callback URLs.",
        )
        return HttpResponseRedirect(
            reverse("admin:authsettings_authenticationsetting_redirect", args=[record.pk])
        )
