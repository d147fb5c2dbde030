"""REST endpoints for channels, deployments, contacts and conversations."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from contactcenter.api.views import ApiViewMixin, ConfigViewSet
from messaging import actions, conversations
from messaging.domains import platform_url
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
    RequestAuthenticationSerializer,
    RequestedAuthenticationSerializer,
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
    """Conversations, read with the conversations:read scope; the detail has the messages.
    Requesting a sign-in takes conversations:write."""

    read_scope = "conversations:read"
    # Only the request-authentication action writes.
    write_scope = "conversations:write"
    queryset = Conversation.objects.all()
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = ConversationFilter
    ordering_fields = ["created_at", "modified_at", "priority"]

    def get_queryset(self):
        queryset = self.queryset.select_related("channel_instance")
        if self.action == "retrieve":
            return queryset.prefetch_related("messages")
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ConversationDetailSerializer
        if self.action == "request_authentication":
            return RequestAuthenticationSerializer
        return ConversationSerializer

    @extend_schema(
        request=RequestAuthenticationSerializer,
        responses={
            202: RequestedAuthenticationSerializer,
            409: OpenApiResponse(
                description="The conversation is closed, has no Apple authentication setting, "
                "or the customer's device lacks the capability (capability_missing)."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="request-authentication")
    def request_authentication(self, request, pk=None):
        """Send the customer of an Apple conversation a sign-in request."""
        conversation = self.get_object()
        serializer = RequestAuthenticationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            sign_in = conversations.request_authentication(
                conversation,
                rich_message_id=serializer.validated_data.get("rich_message"),
                platform_url=platform_url(request),
                acting_user=request.user,
            )
        except actions.ActionRefused as refusal:
            if refusal.code == "rich_message_invalid":
                raise ValidationError({"rich_message": [refusal.detail]}) from None
            return Response(
                {"code": refusal.code, "detail": refusal.detail}, status=status.HTTP_409_CONFLICT
            )
        return Response(
            {"request_identifier": str(sign_in.request_identifier)},
            status=status.HTTP_202_ACCEPTED,
        )
