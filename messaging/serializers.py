"""REST representation of channels, deployments, contacts and conversations."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from contactcenter.api.serializers import ModelCleanSerializer, ObjectField, StorableJSONField
from messaging.domains import platform_url
from messaging.models import (
    ChannelInstance,
    Contact,
    Conversation,
    Deployment,
    Message,
    RichMessage,
)

TIMESTAMPS = ["created_at", "modified_at"]


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class HostNamesField(StorableJSONField):
    """Host names, checked and normalized by the model."""


class RichMessageSerializer(ModelCleanSerializer):
    """A structured message, such as the sign-in request of Apple Messages for Business."""

    content = ObjectField(
        required=False,
        help_text='authentication: {"received_message", "reply_message"}, 1 to 1000 '
        "characters each.",
    )

    class Meta:
        model = RichMessage
        fields = ["id", "name", "channel_type", "type", "content", *TIMESTAMPS]


class ChannelInstanceSerializer(ModelCleanSerializer):
    """A channel customers reach a workstream through, such as a chat widget."""

    class Meta:
        model = ChannelInstance
        fields = [
            "id",
            "name",
            "kind",
            "workstream",
            "authentication_setting",
            "require_authentication",
            "allow_session_upgrade",
            "persistent_conversations",
            "on_logout",
            "widget_id",
            "business_id",
            *TIMESTAMPS,
        ]
        extra_kwargs = {
            "require_authentication": {
                "help_text": "Refuse visitors who are not signed in. Default: true when an "
                "authentication setting is given."
            }
        }

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and "require_authentication" not in attrs:
            attrs["require_authentication"] = attrs.get("authentication_setting") is not None
        return super().validate(attrs)


class DeploymentSerializer(ModelCleanSerializer):
    """A place the chat widget runs: a web site or a mobile app."""

    allowed_domains = HostNamesField(
        required=False,
        help_text="Host names the widget may run on, e.g. www.example.com; with a port for "
        "any other than 80 and 443, e.g. localhost:3000.",
    )
    snippet = serializers.SerializerMethodField(
        help_text="The HTML to paste into a page or a tag manager."
    )
    mobile = serializers.SerializerMethodField(help_text="What a mobile SDK needs.")

    class Meta:
        model = Deployment
        fields = [
            "id",
            "name",
            "channel_instance",
            "allowed_domains",
            "allow_all_domains",
            "allow_mobile_apps",
            "status",
            "deployment_id",
            "snippet",
            "mobile",
            *TIMESTAMPS,
        ]

    def get_snippet(self, deployment: Deployment) -> str:
        return deployment.snippet(platform_url(self.context["request"]))

    @extend_schema_field(
        inline_serializer(
            "DeploymentMobile",
            {"deployment_id": serializers.UUIDField(), "domain": serializers.CharField()},
        )
    )
    def get_mobile(self, deployment: Deployment) -> dict[str, str]:
        return deployment.mobile(platform_url(self.context["request"]))


class ContactSerializer(ModelCleanSerializer):
    """A known customer; a verified sub equal to an active contact's id identifies them."""

    class Meta:
        model = Contact
        fields = ["id", "full_name", "email", "status", *TIMESTAMPS]
        extra_kwargs = {"id": {"help_text": "May be chosen on create; fixed afterwards."}}

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.instance is not None:
            fields["id"].read_only = True
        return fields


class MessageSerializer(serializers.ModelSerializer):
    """A message of a conversation."""

    class Meta:
        model = Message
        fields = ["id", "sender", "text", "sent_at", "delivery"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    """A conversation with a customer; read-only."""

    authenticated = serializers.BooleanField(
        source="authenticated_now", read_only=True, help_text="Authenticated now."
    )
    authentication = ObjectField(
        read_only=True,
        allow_null=True,
        help_text="How the visitor was verified: setting id, kid, iss, the claims accepted "
        "and the context variables dropped.",
    )
    context = ObjectField(read_only=True, help_text="The accepted context variables, typed.")
    channel = serializers.ChoiceField(
        source="channel_instance.kind",
        choices=ChannelInstance.Kind.choices,
        read_only=True,
        help_text="The kind of channel the conversation came through.",
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel_instance",
            "channel",
            "customer_id",
            "status",
            "authenticated",
            "authenticated_until",
            "subject",
            "authentication",
            "contact",
            "context",
            "queue",
            "priority",
            *TIMESTAMPS,
        ]
        read_only_fields = fields


class ConversationDetailSerializer(ConversationSerializer):
    """A conversation with its messages."""

    messages = MessageSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]
        read_only_fields = fields


class RequestAuthenticationSerializer(serializers.Serializer):
    """Which of the setting's authentication rich messages to send; the first when left out."""

    rich_message = serializers.IntegerField(required=False, allow_null=True)


class RequestedAuthenticationSerializer(serializers.Serializer):
    request_identifier = serializers.UUIDField(read_only=True)
