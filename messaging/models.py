"""Channels customers reach us through, where the widget runs, and the conversations held."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from simple_history.models import HistoricalRecords

from authsettings.fields import EncryptedTextField
from contactcenter.models import ChannelType, NamedModel, TimeStampedModel
from messaging import domains

MAX_RICH_TEXT = 1000
BUSINESS_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# Members of this group use the agent console; each queue names the agents who see it.
AGENTS_GROUP = "Agents"
# A waiting chat whose visitor has had no socket open this long is closed as abandoned.
ABANDONED_AFTER = timedelta(minutes=10)


def agent_users():
    """The users who may use the agent console (and whom queues may name): active staff users
    in the Agents group."""
    return get_user_model().objects.filter(is_active=True, is_staff=True, groups__name=AGENTS_GROUP)


class RichMessage(NamedModel):
    class Type(models.TextChoices):
        AUTHENTICATION = "authentication", "Authentication"
        LIST_PICKER = "list_picker", "List picker"
        TIME_PICKER = "time_picker", "Time picker"
        QUICK_REPLY = "quick_reply", "Quick reply"
        RICH_LINK = "rich_link", "Rich link"
        FORM = "form", "Form"

    name = models.CharField(max_length=200)
    channel_type = models.CharField(
        max_length=40,
        choices=ChannelType.choices,
        default=ChannelType.APPLE_MESSAGES_FOR_BUSINESS,
    )
    type = models.CharField(max_length=20, choices=Type.choices)
    content = models.JSONField(
        default=dict,
        blank=True,
        help_text='An authentication message needs {"received_message": "...", '
        '"reply_message": "..."}.',
    )

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.content, dict):
            raise ValidationError({"content": "Give the content as a JSON object."})
        if self.type == self.Type.AUTHENTICATION:
            problems = []
            for key, meaning in (
                ("received_message", "the text beside the sign-in button"),
                ("reply_message", "the text shown after a successful sign-in"),
            ):
                value = self.content.get(key)
                if not isinstance(value, str) or not 1 <= len(value) <= MAX_RICH_TEXT:
                    problems.append(f"Give {key}: {meaning}, 1 to {MAX_RICH_TEXT} characters.")
            if problems:
                raise ValidationError({"content": problems})


class ChannelInstance(NamedModel):
    class Kind(models.TextChoices):
        CHAT_WIDGET = "chat_widget", "Chat widget"
        APPLE_MESSAGES_FOR_BUSINESS = (
            "apple_messages_for_business",
            "Apple Messages for Business",
        )

    class OnLogout(models.TextChoices):
        KEEP = "keep", "Keep the conversation open, no longer authenticated"
        END = "end", "End the conversation"

    CHANNEL_TYPE_BY_KIND = {
        Kind.CHAT_WIDGET: ChannelType.LIVE_CHAT,
        Kind.APPLE_MESSAGES_FOR_BUSINESS: ChannelType.APPLE_MESSAGES_FOR_BUSINESS,
    }

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    workstream = models.ForeignKey(
        "workstreams.Workstream", on_delete=models.PROTECT, related_name="channel_instances"
    )
    authentication_setting = models.ForeignKey(
        "authsettings.AuthenticationSetting",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="channel_instances",
    )
    require_authentication = models.BooleanField(
        default=True,
        help_text="Refuse conversations from customers who are not signed in.",
    )
    allow_session_upgrade = models.BooleanField(
        default=False, help_text="An anonymous conversation may sign in mid-chat."
    )
    persistent_conversations = models.BooleanField(
        default=False,
        help_text="A signed-in customer's open conversation continues on every device and "
        "after a reload instead of a new one starting.",
    )
    on_logout = models.CharField(
        max_length=10,
        choices=OnLogout.choices,
        default=OnLogout.KEEP,
        help_text="What a code-flow sign-out does to the customer's open conversation.",
    )
    widget_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    business_id = models.CharField(
        "Business ID",
        max_length=100,
        blank=True,
        help_text="Apple Messages for Business: the business id of the account, from Apple "
        "Business Register.",
    )

    history = HistoricalRecords()

    class Meta(NamedModel.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["business_id"],
                condition=models.Q(kind="apple_messages_for_business"),
                name="unique_apple_business_id",
            )
        ]

    @property
    def is_apple(self) -> bool:
        return self.kind == self.Kind.APPLE_MESSAGES_FOR_BUSINESS

    @property
    def channel_type(self) -> str:
        return self.CHANNEL_TYPE_BY_KIND[self.kind]

    @classmethod
    def find_widget(cls, widget_id) -> ChannelInstance | None:
        """The chat widget with this public id, with what a chat start reads of it."""
        return (
            cls.objects.select_related("workstream", "authentication_setting")
            .filter(widget_id=widget_id, kind=cls.Kind.CHAT_WIDGET)
            .first()
        )

    def _session_problems(self) -> dict[str, str]:
        """What persistent conversations and on_logout need: a chat widget whose customers
        sign in, and for ending at sign-out, a code flow (the only one with a sign-out)."""
        problems = {}
        if self.persistent_conversations:
            if self.kind != self.Kind.CHAT_WIDGET:
                problems["persistent_conversations"] = (
                    "Only a chat widget keeps conversations across devices."
                )
            elif not self.authentication_setting_id:
                problems["persistent_conversations"] = (
                    "Persistent conversations follow signed-in customers; choose an "
                    "authentication setting."
                )
        if self.on_logout == self.OnLogout.END:
            setting = self.authentication_setting
            if self.kind != self.Kind.CHAT_WIDGET:
                problems["on_logout"] = "Only a chat widget's customers sign out of it."
            elif setting is None or setting.authentication_type not in setting.CODE_FLOWS:
                problems["on_logout"] = (
                    "Only a code flow (OAuth 2.0 or OpenID Connect) signs customers out; "
                    "choose such an authentication setting, or keep conversations at sign-out."
                )
        return problems

    @classmethod
    def find_apple(cls, business_id: str) -> ChannelInstance | None:
        """The Apple channel instance of a business id, with what a conversation start reads."""
        return (
            cls.objects.select_related("workstream", "authentication_setting")
            .filter(business_id=business_id, kind=cls.Kind.APPLE_MESSAGES_FOR_BUSINESS)
            .first()
        )

    def business_id_problem(self) -> str | None:
        """Apple channels need a business id of their own (Apple names the channel by it in
        every message); other channels have none."""
        if not self.is_apple:
            if self.business_id:
                return "Only an Apple Messages for Business channel has a business id."
            return None
        if not self.business_id:
            return "Give the business id Apple assigned to the account."
        if not BUSINESS_ID.match(self.business_id):
            return "Give the business id as Apple shows it: letters, digits, - and _ only."
        taken = ChannelInstance.objects.filter(
            kind=self.Kind.APPLE_MESSAGES_FOR_BUSINESS, business_id=self.business_id
        ).exclude(pk=self.pk)
        if taken.exists():
            return "Another Apple Messages for Business channel has this business id."
        return None

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.kind in self.CHANNEL_TYPE_BY_KIND:
            fits = ChannelType(self.channel_type).label
            if self.workstream_id and self.workstream.channel_type != self.channel_type:
                errors["workstream"] = f"Choose a workstream of channel type {fits}."
            setting = self.authentication_setting
            if setting and setting.channel_type != self.channel_type:
                errors["authentication_setting"] = (
                    f"Choose an authentication setting of channel type {fits}."
                )
        if business_id_problem := self.business_id_problem():
            errors["business_id"] = business_id_problem
        if self.require_authentication and not self.authentication_setting_id:
            errors["require_authentication"] = (
                "Choose an authentication setting, or turn off require authentication."
            )
        errors.update(self._session_problems())
        if errors:
            raise ValidationError(errors)


class Deployment(NamedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    name = models.CharField(max_length=200)
    channel_instance = models.ForeignKey(
        ChannelInstance, on_delete=models.CASCADE, related_name="deployments"
    )
    allowed_domains = models.JSONField(
        default=list,
        blank=True,
        help_text="Host names the widget may run on, e.g. www.example.com; with a port for any "
        "other than 80 and 443, e.g. localhost:3000.",
    )
    allow_all_domains = models.BooleanField(default=False)
    allow_mobile_apps = models.BooleanField(
        default=False,
        help_text="Native apps, which send no Origin, may chat through this deployment with "
        "its id.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    deployment_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    history = HistoricalRecords()

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[str]] = {}
        if (
            self.channel_instance_id
            and self.channel_instance.kind != ChannelInstance.Kind.CHAT_WIDGET
        ):
            errors["channel_instance"] = ["A deployment runs a chat widget; choose one."]
        if not isinstance(self.allowed_domains, list):
            errors["allowed_domains"] = ["Give a list of host names."]
        else:
            hosts = [
                domains.normalize(host) if isinstance(host, str) else host
                for host in self.allowed_domains
            ]
            problems = [p for host in hosts if (p := domains.host_problem(host))]
            if problems:
                errors["allowed_domains"] = problems
            else:
                self.allowed_domains = list(dict.fromkeys(hosts))
            if self.allow_all_domains and self.allowed_domains:
                errors.setdefault("allow_all_domains", []).append(
                    "Allow all domains only with an empty list of allowed domains."
                )
        if errors:
            raise ValidationError(errors)

    def snippet(self, base_url: str) -> str:
        """The HTML to paste into a page or a tag manager."""
        return format_html(
            '<script src="{}/widget/loader.js" data-deployment-id="{}" async></script>',
            base_url.rstrip("/"),
            self.deployment_id,
        )

    def mobile(self, base_url: str) -> dict[str, str]:
        """What a mobile SDK needs to reach this deployment."""
        return {"deployment_id": str(self.deployment_id), "domain": urlsplit(base_url).netloc}


class Contact(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        ordering = ["full_name", "id"]

    def __str__(self) -> str:
        return self.full_name


def _authenticated_at(moment: datetime) -> models.Q:
    """Conversations verified and not expired at a moment (an implicit flow never expires)."""
    return models.Q(authenticated=True) & (
        models.Q(authenticated_until__isnull=True) | models.Q(authenticated_until__gt=moment)
    )


class ConversationQuerySet(models.QuerySet):
    def authenticated_at(self, moment: datetime) -> ConversationQuerySet:
        return self.filter(_authenticated_at(moment))

    def authenticated_now(self) -> ConversationQuerySet:
        return self.authenticated_at(timezone.now())

    def not_authenticated_now(self) -> ConversationQuerySet:
        return self.exclude(_authenticated_at(timezone.now()))

    def with_summary_relations(self) -> ConversationQuerySet:
        """Loaded for conversation summaries, in one query however many there are."""
        return self.select_related(
            "channel_instance__workstream",
            "channel_instance__authentication_setting",
            "queue",
            "contact",
        ).prefetch_related(
            "channel_instance__workstream__context_variables",
            "channel_instance__authentication_setting__rich_messages",
        )

    def waiting_in(self, queue_ids) -> ConversationQuerySet:
        """The queues' waiting conversations, by priority, then age."""
        return self.filter(queue_id__in=queue_ids, status=Conversation.Status.WAITING).order_by(
            "-priority", "created_at"
        )

    def active_with(self, agent) -> ConversationQuerySet:
        """The conversations the agent accepted and that are still open, oldest first."""
        return self.filter(agent=agent, status=Conversation.Status.ACTIVE).order_by("created_at")

    def open_of(self, channel_instance, **customer: str) -> ConversationQuerySet:
        """A customer's conversations on the channel that are not closed, newest first; the
        customer named by the verified `subject` or by Apple's `customer_id`."""
        return (
            self.filter(channel_instance=channel_instance, **customer)
            .exclude(status=Conversation.Status.CLOSED)
            .order_by("-created_at")
        )

    def sign_in_lapsed(self, now: datetime) -> ConversationQuerySet:
        """Signed-in conversations whose sign-in lapsed by `now` and whose agents were not
        told yet."""
        return self.filter(
            authenticated=True,
            authenticated_until__lte=now,
            expiry_announced_at__isnull=True,
        )

    def abandoned(self, now: datetime) -> ConversationQuerySet:
        """Waiting chats whose visitor has had no socket open for ABANDONED_AFTER."""
        return self.filter(
            status=Conversation.Status.WAITING, visitor_seen_at__lt=now - ABANDONED_AFTER
        )


class Conversation(TimeStampedModel):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel_instance = models.ForeignKey(
        ChannelInstance, on_delete=models.PROTECT, related_name="conversations"
    )
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    authenticated = models.BooleanField(
        default=False, help_text="Verified at some point; see authenticated_until."
    )
    authenticated_until = models.DateTimeField(null=True, blank=True)
    # Null, not "": the API reports "no verified subject" as null.
    subject = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    authentication = models.JSONField(null=True, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    context = models.JSONField(default=dict, blank=True)
    queue = models.ForeignKey(
        "workstreams.Queue", on_delete=models.PROTECT, related_name="conversations"
    )
    priority = models.IntegerField(default=0)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    resume_token_hash = models.CharField(max_length=128, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    visitor_seen_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Chat: when a visitor socket was last known open. Null for channels "
        "without sockets.",
    )

    # Null, not "": chat conversations have no Apple customer.
    customer_id = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        editable=False,
        help_text="Apple Messages for Business: the customer's opaque id (urn:mbid:...).",
    )
    capabilities = models.CharField(
        max_length=500,
        blank=True,
        editable=False,
        help_text="Apple: the capability list the customer's device last sent, comma separated.",
    )
    expiry_announced_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When agents were told the sign-in lapsed; cleared by a new sign-in.",
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["queue", "status", "-priority", "created_at"]),
            models.Index(fields=["status", "visitor_seen_at"]),
            models.Index(fields=["channel_instance", "customer_id", "status"]),
            models.Index(fields=["authenticated_until", "expiry_announced_at"]),
        ]

    def __str__(self) -> str:
        return f"Conversation {self.id}"

    def has_capability(self, capability: str) -> bool:
        return capability in {item.strip() for item in self.capabilities.split(",")}

    @property
    def authenticated_now(self) -> bool:
        """_authenticated_at() read on this conversation, without a query."""
        return self.authenticated and (
            self.authenticated_until is None or self.authenticated_until > timezone.now()
        )


class Message(models.Model):
    class Sender(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.CharField(max_length=10, choices=Sender.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )

    class Delivery(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    text = models.TextField()
    sent_at = models.DateTimeField(default=timezone.now)
    # Null, not "": chat messages and those of visitors are not delivered by the platform.
    delivery = models.CharField(  # noqa: DJ001
        max_length=10, choices=Delivery.choices, null=True, blank=True
    )
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    next_delivery_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["conversation_id", "id"]
        indexes = [models.Index(fields=["delivery", "next_delivery_at"])]

    def __str__(self) -> str:
        return f"{self.sender}: {self.text[:40]}"


class AppleReceipt(models.Model):
    """An Apple message id already handled: written in the transaction that handles the
    message, so Apple's retries of one message are handled once."""

    id = models.UUIDField(primary_key=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.id)


class AppleAuthenticationRequest(models.Model):
    """A sign-in sent to an Apple customer: the interactive message, its single-use state
    (only a hash), and for the code flow the private key the device encrypts its token to."""

    class Outcome(models.TextChoices):
        AUTHENTICATED = "authenticated", "Authenticated"
        FAILED = "failed", "Failed"

    request_identifier = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="apple_authentication_requests"
    )
    setting = models.ForeignKey(
        "authsettings.AuthenticationSetting", on_delete=models.CASCADE, related_name="+"
    )
    rich_message = models.ForeignKey(RichMessage, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    state_hash = models.CharField(max_length=64, unique=True)
    # The OpenID Connect flow's redirect URI, sent to Apple and again when the code is redeemed.
    redirect_uri = models.URLField(max_length=500, blank=True)
    private_key = EncryptedTextField(blank=True)
    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="apple_authentication_request"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # Null, not "": an open request has no outcome yet.
    outcome = models.CharField(max_length=20, choices=Outcome.choices, null=True, blank=True)  # noqa: DJ001

    def __str__(self) -> str:
        return f"Sign-in request {self.request_identifier}"


class SignInFailure(models.Model):
    """A refused start or sign-in, for the administrator's failure panel and the API's
    `failures` (CONTRACT.md): what was refused and why, never the token or the subject.
    Written off the request by messaging.failure_log, kept CC_FAILURE_LOG_DAYS days."""

    at = models.DateTimeField(default=timezone.now)
    setting = models.ForeignKey(
        "authsettings.AuthenticationSetting",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sign_in_failures",
    )
    channel_instance = models.ForeignKey(
        ChannelInstance, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    way = models.CharField(max_length=40)
    origin_host = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=64)
    detail = models.TextField(blank=True)
    kid = models.CharField(max_length=255, blank=True)
    iss = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["setting", "-at"], name="failure_setting_at"),
            models.Index(fields=["at"], name="failure_at"),
        ]

    def __str__(self) -> str:
        return f"{self.code} at {self.at:%Y-%m-%d %H:%M:%S}"
