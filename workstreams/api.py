"""REST endpoints for workstreams, queues, context variables and routing rules."""

from __future__ import annotations

from django.db.models import Prefetch

from contactcenter.api.views import ConfigViewSet
from messaging.models import agent_users
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream
from workstreams.serializers import (
    ContextVariableSerializer,
    QueueSerializer,
    RoutingRuleSerializer,
    WorkstreamSerializer,
)


class WorkstreamViewSet(ConfigViewSet):
    queryset = Workstream.objects.prefetch_related(
        Prefetch("context_variables", queryset=ContextVariable.objects.order_by("name"))
    )
    serializer_class = WorkstreamSerializer
    filterset_fields = ["channel_type"]


class ContextVariableViewSet(ConfigViewSet):
    queryset = ContextVariable.objects.all()
    serializer_class = ContextVariableSerializer
    filterset_fields = ["workstream", "type"]


class QueueViewSet(ConfigViewSet):
    queryset = Queue.objects.prefetch_related(
        Prefetch("agents", queryset=agent_users().order_by("username"))
    )
    serializer_class = QueueSerializer
    filterset_fields = ["workstream"]


class RoutingRuleViewSet(ConfigViewSet):
    queryset = RoutingRule.objects.all()
    serializer_class = RoutingRuleSerializer
    filterset_fields = ["workstream", "queue"]
    ordering_fields = ["order", "priority", *ConfigViewSet.ordering_fields]
