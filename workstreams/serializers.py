"""REST representation of workstreams, their queues, context variables and routing rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contactcenter.api.serializers import ModelCleanSerializer, StorableJSONField
from messaging.models import agent_users
from workstreams.conditions import AUTHENTICATED, OPERATORS
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

TIMESTAMPS = ["created_at", "modified_at"]


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "variable": {
                    "type": "string",
                    "description": f"{AUTHENTICATED}, or the name of a context variable.",
                },
                "operator": {"type": "string", "enum": list(OPERATORS)},
                "value": {
                    "description": "Compared after conversion to the variable's type; "
                    "ignored by exists."
                },
            },
            "required": ["variable", "operator"],
        },
    }
)
class ConditionsField(StorableJSONField):
    """A rule's conditions, described in the schema; the model checks them."""


class ContextVariableSummarySerializer(serializers.ModelSerializer):
    """A workstream's context variable, as listed on the workstream."""

    class Meta:
        model = ContextVariable
        fields = ["id", "name", "type", "display_to_agent"]
        read_only_fields = fields


class WorkstreamSerializer(ModelCleanSerializer):
    """A line of business whose conversations are routed to its queues."""

    context_variables = ContextVariableSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Workstream
        fields = ["id", "name", "channel_type", "default_queue", "context_variables", *TIMESTAMPS]
        extra_kwargs = {
            "default_queue": {
                "help_text": "A queue of this workstream; set it once the queue exists."
            }
        }


class ContextVariableSerializer(ModelCleanSerializer):
    """A variable a token's lwicontexts may carry for a workstream."""

    class Meta:
        model = ContextVariable
        fields = ["id", "workstream", "name", "type", "display_to_agent", *TIMESTAMPS]
        # The name is the exact key of lwicontexts: refused with spaces, never trimmed.
        extra_kwargs = {"name": {"trim_whitespace": False}}


class AgentField(serializers.SlugRelatedField):
    """An agent, by username."""

    default_error_messages = {
        "invalid": "Name an agent by their username, a string.",
        "does_not_exist": (
            "No agent is named {value}: an agent is an active staff user in the Agents group."
        ),
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueueSerializer(ModelCleanSerializer):
    """Where a workstream's conversations wait for an agent."""

    agents = AgentField(
        many=True,
        required=False,
        slug_field="username",
        queryset=agent_users(),
        help_text="Usernames of users in the Agents group who see this queue in the console.",
    )

    class Meta:
        model = Queue
        fields = ["id", "name", "workstream", "agents", *TIMESTAMPS]


class RoutingRuleSerializer(ModelCleanSerializer):
    """The first rule whose conditions all hold routes a conversation to its queue."""

    conditions = ConditionsField(
        required=False, help_text="All must hold; an empty list always matches."
    )

    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "workstream",
            "name",
            "order",
            "conditions",
            "queue",
            "priority",
            *TIMESTAMPS,
        ]
