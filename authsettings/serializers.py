"""REST representation of authentication settings; the rules are the model's."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from authsettings.models import AuthenticationSetting
from contactcenter.api.serializers import ModelCleanSerializer, StorableJSONField
from messaging.domains import platform_url


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
class ParametersField(StorableJSONField):
    """Extra authorization request parameters: names and text values."""


class AuthenticationSettingSerializer(ModelCleanSerializer):
    """How the customers of a channel are authenticated."""

    owner = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The user, or the API client's user, who created the setting.",
    )
    client_secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Write-only, never returned. Leave it out to keep the stored secret; an "
        "empty string removes it.",
    )
    client_secret_set = serializers.BooleanField(
        read_only=True, help_text="Whether a client secret is stored."
    )
    additional_parameters = ParametersField(
        required=False,
        help_text="oauth2_openid_connect only: extra parameters of the authorization request.",
    )

    class Meta:
        model = AuthenticationSetting
        fields = [
            "id",
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
            "client_secret_set",
            "scope",
            "access_token_url",
            "decrypted_token_url",
            "additional_parameters",
            "access_token_expiry_seconds",
            "max_refresh_token_lifetime_seconds",
            "rich_messages",
            "created_at",
            "modified_at",
        ]
        extra_kwargs = {
            "redirect_url": {
                "help_text": "oauth2: required. oauth2_openid_connect: read-only, the URL to "
                "copy into the provider; a value sent is ignored."
            },
        }

    def to_representation(self, instance: AuthenticationSetting) -> dict:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if instance.callback_path and request is not None:
            data["redirect_url"] = instance.redirect_url_at(platform_url(request))
        return data

    def validate(self, attrs: dict) -> dict:
        authentication_type = attrs.get(
            "authentication_type", getattr(self.instance, "authentication_type", None)
        )
        if authentication_type == AuthenticationSetting.Type.OAUTH2_OPENID_CONNECT:
            attrs.pop("redirect_url", None)
        return super().validate(attrs)

    def clean_instance(self, instance: AuthenticationSetting, relations: dict) -> None:
        """The model's rules, then its rules on the rich messages (a many-to-many relation
        is saved after the record, so the model checks the chosen ones separately)."""
        errors: dict = {}
        try:
            instance.full_clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "authentication_type" not in errors:
            if "rich_messages" in relations:
                rich_messages = relations["rich_messages"]
            elif self.instance is not None:
                rich_messages = self.instance.rich_messages.all()
            else:
                rich_messages = []
            try:
                instance.validate_rich_messages(rich_messages)
            except ValidationError as error:
                errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
