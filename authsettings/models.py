"""Authentication settings: how customers of a channel are recognised."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from authsettings import token_actions
from authsettings.fields import EncryptedTextField, OutboundURLField
from contactcenter.lib import outbound
from contactcenter.models import ChannelType, TimeStampedModel

JAVASCRIPT_NAME = re.compile(r"^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$")
# Parameters the platform sets itself in a token request; an extra one must not replace them.
RESERVED_PARAMETERS = {
    "client_id",
    "client_secret",
    "code",
    "code_verifier",
    "grant_type",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
}
MAX_ADDITIONAL_PARAMETERS = 50


class AuthenticationSetting(TimeStampedModel):
    class Type(models.TextChoices):
        OAUTH2_IMPLICIT = "oauth2_implicit", "OAuth 2.0 implicit flow"
        OAUTH2 = "oauth2", "OAuth 2.0"
        OPENID_CONNECT = "openid_connect", "OpenID Connect"
        OAUTH2_CODE = "oauth2_code", "OAuth 2.0 code flow"
        OAUTH2_OPENID_CONNECT = "oauth2_openid_connect", "OAuth 2.0 OpenID Connect flow"

    TYPES_BY_CHANNEL = {
        ChannelType.LIVE_CHAT: (Type.OAUTH2_IMPLICIT, Type.OAUTH2, Type.OPENID_CONNECT),
        ChannelType.APPLE_MESSAGES_FOR_BUSINESS: (Type.OAUTH2_CODE, Type.OAUTH2_OPENID_CONNECT),
    }
    APPLE_TYPES = (Type.OAUTH2_CODE, Type.OAUTH2_OPENID_CONNECT)
    OPENID_TYPES = (Type.OPENID_CONNECT, Type.OAUTH2_OPENID_CONNECT)
    # The chat types that sign in with a code the platform redeems (session and refresh tokens).
    CODE_FLOWS = (Type.OPENID_CONNECT, Type.OAUTH2)
    REQUIRED_FIELDS = {
        Type.OAUTH2_IMPLICIT: ("public_key_url", "javascript_client_function"),
        Type.OAUTH2: (
            "token_custom_action",
            "token_url",
            "redirect_url",
            "client_id",
            "client_secret",
        ),
        Type.OPENID_CONNECT: ("discovery_uri", "client_id", "client_secret", "scope"),
        Type.OAUTH2_CODE: ("client_id", "client_secret", "access_token_url", "decrypted_token_url"),
        Type.OAUTH2_OPENID_CONNECT: (
            "client_id",
            "client_secret",
            "scope",
            "access_token_url",
            "decrypted_token_url",
        ),
    }
    # Where the client secret is sent, and under which client id: changing these while a secret
    # is stored could send it elsewhere, so it needs the permission to set secrets too. The
    # types choose which of the URLs receives it.
    SECRET_BOUND_FIELDS = (
        "channel_type",
        "authentication_type",
        "client_id",
        "token_url",
        "discovery_uri",
        "access_token_url",
        "decrypted_token_url",
    )
    SECRET_PERMISSION = "authsettings.set_client_secret"  # noqa: S105 (a permission name)
    FETCHED_URL_FIELDS = (
        "public_key_url",
        "token_url",
        "discovery_uri",
        "access_token_url",
        "decrypted_token_url",
    )

    name = models.CharField(max_length=200, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authentication_settings",
    )
    channel_type = models.CharField(max_length=40, choices=ChannelType.choices)
    authentication_type = models.CharField(max_length=30, choices=Type.choices)
    public_key_url = OutboundURLField(
        blank=True,
        help_text="Where the site publishes the public key(s) its tokens are signed with: "
        "a PEM key, a kid list or a JWKS. The sample portal's is <portal>/auth/publickey.",
    )
    javascript_client_function = models.CharField(
        max_length=200,
        blank=True,
        help_text="The page's function that hands the widget a token, e.g. "
        "auth.getAuthenticationToken.",
    )
    expected_issuer = models.CharField(
        max_length=500, blank=True, help_text="When set, a token's iss must equal it."
    )
    expected_audience = models.CharField(
        max_length=255,
        blank=True,
        help_text="OAuth 2.0 implicit flow only: when set, a token's aud (a string or a list "
        "of strings) must contain it.",
    )
    link_contacts = models.BooleanField(
        "Link contacts",
        default=True,
        help_text="When on, a token's sub that is the id of an active contact links the "
        "conversation to that contact. Any setting with this on can claim any contact: turn it "
        "off for settings whose issuers should not speak for your contacts.",
    )
    token_custom_action = models.CharField(
        max_length=100,
        blank=True,
        help_text="Turns the token response into the user id: userinfo, id_token, or one "
        "registered in settings.",
    )
    token_url = OutboundURLField(blank=True)
    redirect_url = OutboundURLField(blank=True)
    discovery_uri = OutboundURLField(
        blank=True,
        help_text="The provider's /.well-known/openid-configuration URL.",
    )
    client_id = models.CharField(max_length=500, blank=True)
    client_secret = EncryptedTextField(blank=True)
    client_secret_changed_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=1000, blank=True, help_text="Space separated.")
    access_token_url = OutboundURLField(blank=True)
    decrypted_token_url = OutboundURLField(blank=True)
    additional_parameters = models.JSONField(default=dict, blank=True)
    access_token_expiry_seconds = models.PositiveIntegerField(
        default=3600,
        validators=[MinValueValidator(60), MaxValueValidator(86400)],
        help_text="After this time the conversation's Authenticated field turns to No.",
    )
    max_refresh_token_lifetime_seconds = models.PositiveIntegerField(
        default=86400,
        validators=[MinValueValidator(900), MaxValueValidator(7776000)],
        help_text="From 900 (15 minutes) to 7776000 (90 days).",
    )
    rich_messages = models.ManyToManyField(
        "messaging.RichMessage", blank=True, related_name="authentication_settings"
    )

    history = HistoricalRecords(excluded_fields=["client_secret"])

    class Meta:
        ordering = ["name"]
        permissions = [("set_client_secret", "Can set or change client secrets")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_client_secret = instance.__dict__.get("client_secret")
        return instance

    @property
    def client_secret_set(self) -> bool:
        return bool(self.client_secret)

    @classmethod
    def needs_client_secret(cls, authentication_type: str) -> bool:
        return "client_secret" in cls.REQUIRED_FIELDS.get(authentication_type, ())

    @classmethod
    def may_set_secrets(cls, user) -> bool:
        """Whether `user` may set a client secret, or change where a stored one is sent."""
        return user is not None and user.has_perm(cls.SECRET_PERMISSION)

    def secret_bound_changes(self, values: Mapping[str, Any]) -> list[str]:
        """The fields bound to the stored client secret that `values` would change: each needs
        the permission to set secrets. None when no secret is stored."""
        if not self.client_secret:
            return []
        return [
            name
            for name in self.SECRET_BOUND_FIELDS
            if name in values and values[name] != getattr(self, name)
        ]

    @property
    def is_apple(self) -> bool:
        return self.authentication_type in self.APPLE_TYPES

    @property
    def callback_path(self) -> str | None:
        """Where the provider of an Apple Messages for Business OpenID Connect flow sends the
        customer back with a code (DESIGN.md flow 3): the redirect URL an administrator adds
        to the provider's allowed callback URLs. None for other types or an unsaved setting."""
        if self.authentication_type != self.Type.OAUTH2_OPENID_CONNECT or self.pk is None:
            return None
        return f"/apple/auth/{self.pk}/callback"

    def redirect_url_at(self, platform_url: str) -> str | None:
        """The callback URL on a platform reached at `platform_url`, for a setting that has
        one."""
        path = self.callback_path
        return f"{platform_url}{path}" if path else None

    def save(self, *args, **kwargs):
        if self.client_secret != self._stored_secret():
            self.client_secret_changed_at = timezone.now()
        super().save(*args, **kwargs)
        self._stored_client_secret = self.client_secret

    def _stored_secret(self) -> str:
        """The secret as last saved: known for a record read from the database, looked up for
        one built with the primary key of a stored record (a version being reverted)."""
        if hasattr(self, "_stored_client_secret"):
            return self._stored_client_secret or ""
        if self.pk is None:
            return ""
        stored = type(self).objects.filter(pk=self.pk).values_list("client_secret", flat=True)
        return stored.first() or ""

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        allowed_types = self.TYPES_BY_CHANNEL.get(self.channel_type, ())
        if self.channel_type and self.authentication_type not in allowed_types:
            labels = ", ".join(str(self.Type(kind).label) for kind in allowed_types)
            add(
                "authentication_type",
                f"{ChannelType(self.channel_type).label} takes one of: {labels}.",
            )
        for field in self.REQUIRED_FIELDS.get(self.authentication_type, ()):
            if not getattr(self, field):
                add(field, f"Required for {self.get_authentication_type_display()}.")
        for field in self.FETCHED_URL_FIELDS:
            url = getattr(self, field)
            if url and (problem := outbound.url_problem(url)):
                add(field, problem)
        if self.javascript_client_function and not JAVASCRIPT_NAME.match(
            self.javascript_client_function
        ):
            add(
                "javascript_client_function",
                "Give a dotted JavaScript name such as auth.getAuthenticationToken.",
            )
        if self.expected_audience and self.authentication_type != self.Type.OAUTH2_IMPLICIT:
            add(
                "expected_audience",
                f"Only the {self.Type.OAUTH2_IMPLICIT.label} checks an audience; leave it empty.",
            )
        if self.token_custom_action and self.token_custom_action not in token_actions.names():
            add(
                "token_custom_action",
                f"Choose a registered token action: {', '.join(token_actions.names())}.",
            )
        openid_flow = self.authentication_type in self.OPENID_TYPES
        if openid_flow and self.scope and "openid" not in self.scope.split():
            add("scope", "Include openid in the scope for an OpenID Connect flow.")
        for message in self._additional_parameter_problems():
            add("additional_parameters", message)
        if errors:
            raise ValidationError(errors)

    def _additional_parameter_problems(self) -> list[str]:
        parameters = self.additional_parameters
        if parameters in (None, {}):
            return []
        if self.authentication_type != self.Type.OAUTH2_OPENID_CONNECT:
            return ["Only the OAuth 2.0 OpenID Connect flow takes additional parameters."]
        if not isinstance(parameters, dict):
            return ['Give an object of names and text values, e.g. {"prompt": "login"}.']
        if len(parameters) > MAX_ADDITIONAL_PARAMETERS:
            return [f"At most {MAX_ADDITIONAL_PARAMETERS} additional parameters."]
        problems = []
        for name, value in parameters.items():
            if not name.strip():
                problems.append("A parameter name cannot be empty.")
            elif name in RESERVED_PARAMETERS:
                problems.append(f"{name} is set by the platform; remove it.")
            if not isinstance(value, str):
                problems.append(f"The value of {name} must be text.")
        return problems

    def rich_message_problems(self, rich_messages) -> list[str]:
        """Apple settings need at least one authentication rich message of their channel;
        other types take none. Called with the chosen messages, since a many-to-many
        relation is only saved after the record."""
        rich_messages = list(rich_messages)
        if not self.is_apple:
            if rich_messages:
                return ["Only Apple Messages for Business settings take rich messages."]
            return []
        problems = [
            f"{message.name} is not an Apple Messages for Business rich message."
            for message in rich_messages
            if message.channel_type != ChannelType.APPLE_MESSAGES_FOR_BUSINESS
        ]
        if not any(message.type == message.Type.AUTHENTICATION for message in rich_messages):
            problems.append("Add at least one rich message of type authentication.")
        return problems

    def validate_rich_messages(self, rich_messages) -> None:
        if problems := self.rich_message_problems(rich_messages):
            raise ValidationError({"rich_messages": problems})


class WidgetSignIn(TimeStampedModel):
    """A visitor signed in to a chat widget through a code flow (CONTRACT.md "Code-flow
    sign-in"). Its refresh token is `<refresh_selector>.<generation>.<secret>` (see
    authsettings.codeflow): the selector finds the sign-in, only a hash of the current token
    is kept. Session tokens name it by `session_id`."""

    class RevokedReason(models.TextChoices):
        LOGOUT = "logout", "Signed out"
        REUSE = "reuse", "A replaced refresh token was used again"

    setting = models.ForeignKey(
        AuthenticationSetting, on_delete=models.CASCADE, related_name="widget_sign_ins"
    )
    widget_id = models.UUIDField(db_index=True)
    subject = models.CharField(max_length=255)
    session_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    refresh_selector = models.CharField(max_length=64, unique=True)
    refresh_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(
        help_text="Created at plus the setting's maximum refresh token lifetime; refreshing "
        "never extends it."
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokedReason.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} on widget {self.widget_id}"
