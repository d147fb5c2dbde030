"""REST endpoints for workstreams, queues, context variables and routing rules."""

from __future__ import annotations

from django.db.models import Prefetch

from contactcenter.api import ConfigViewSet
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream
from workstreams.serializers import (
    ContextVariableSerializer,
    QueueSerializer,
    RoutingRuleSerializer,
    WorkstreamSerializer,
)

NAMED = ["name", "created_at", "modified_at"]


class WorkstreamViewSet(ConfigViewSet):
    queryset = Workstream.objects.prefetch_related(
        Prefetch("context_variables", queryset=ContextVariable.objects.order_by("name"))
    )
    serializer_class = WorkstreamSerializer
    filterset_fields = ["channel_type"]
    search_fields = ["name"]
    ordering_fields = NAMED


class ContextVariableViewSet(ConfigViewSet):
    queryset = ContextVariable.objects.all()
    serializer_class = ContextVariableSerializer
    filterset_fields = ["workstream", "type"]
    search_fields = ["name"]
    ordering_fields = NAMED


class QueueViewSet(ConfigViewSet):
    queryset = Queue.objects.all()
    serializer_class = QueueSerializer
    filterset_fields = ["workstream"]
    search_fields = ["name"]
    ordering_fields = NAMED


class RoutingRuleViewSet(ConfigViewSet):
    queryset = RoutingRule.objects.all()
    serializer_class = RoutingRuleSerializer
    filterset_fields = ["workstream", "queue"]
    search_fields = ["name"]
    ordering_fields = ["order", "priority", *NAMED]
