"""REST endpoints for channels, deployments, contacts and conversations."""

from __future__ import annotations

from django_filters import rest_framework as filters
from rest_framework import viewsets
from rest_framework.filters import OrderingFilter

from contactcenter.api.views import ApiViewMixin, ConfigViewSet
from messaging.models import (
    ChannelInstance,
    Contact,
    Conversation,
    Deployment,
    RichMessage,
)
from messaging.serializers import (
    ChannelInstanceSerializer,
    ContactSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    DeploymentSerializer,
    RichMessageSerializer,
)


class RichMessageViewSet(ConfigViewSet):
    queryset = RichMessage.objects.all()
    serializer_class = RichMessageSerializer
    filterset_fields = ["channel_type", "type"]


class ChannelInstanceViewSet(ConfigViewSet):
    queryset = ChannelInstance.objects.all()
    serializer_class = ChannelInstanceSerializer
    filterset_fields = ["kind", "workstream", "authentication_setting"]


class DeploymentViewSet(ConfigViewSet):
    queryset = Deployment.objects.all()
    serializer_class = DeploymentSerializer
    filterset_fields = ["channel_instance", "status"]


class ContactViewSet(ConfigViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_fields = ["status"]
    search_fields = ["full_name", "email"]
    ordering_fields = ["full_name", "created_at", "modified_at"]


class ConversationFilter(filters.FilterSet):
    authenticated = filters.BooleanFilter(method="filter_authenticated", label="Authenticated now")

    class Meta:
        model = Conversation
        fields = ["status", "channel_instance", "queue", "contact", "authenticated"]

    def filter_authenticated(self, queryset, name, value):
        return queryset.authenticated_now() if value else queryset.not_authenticated_now()


class ConversationViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Conversations, read with the conversations:read scope; the detail has the messages."""

    read_scope = "conversations:read"
    write_scope = None
    queryset = Conversation.objects.all()
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ConversationFilter
    ordering_fields = ["created_at", "modified_at", "priority"]

    def get_queryset(self):
        if self.action == "retrieve":
            return self.queryset.prefetch_related("messages")
        return self.queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ConversationDetailSerializer
        return ConversationSerializer
