"""Workstreams, their queues, the context variables their tokens may carry, and routing rules."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models

from contactcenter.models import ChannelType, NamedModel, TimeStampedModel
from workstreams import conditions as rule_conditions
from workstreams import context


class Workstream(NamedModel):
    MAX_VARIABLES = 100

    name = models.CharField(max_length=200)
    channel_type = models.CharField(max_length=40, choices=ChannelType.choices)
    default_queue = models.ForeignKey(
        "workstreams.Queue",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where conversations go when no routing rule matches.",
    )

    def clean(self) -> None:
        super().clean()
        if self.default_queue_id and self.default_queue.workstream_id != self.pk:
            raise ValidationError(
                {"default_queue": "Choose a queue of this workstream as its default queue."}
            )

    def variable_types(self) -> dict[str, str]:
        """Each context variable's name and type; prefetched variables are used when there."""
        return {variable.name: variable.type for variable in self.context_variables.all()}


class Queue(TimeStampedModel):
    name = models.CharField(max_length=200)
    workstream = models.ForeignKey(Workstream, on_delete=models.CASCADE, related_name="queues")
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="queues",
        help_text="Agents who see this queue's conversations in the agent console.",
    )

    class Meta:
        ordering = ["workstream__name", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workstream", "name"], name="queue_name_unique_per_workstream"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workstream.name} / {self.name}"


class ContextVariable(TimeStampedModel):
    class Type(models.TextChoices):
        TEXT = context.TEXT, "Text"
        NUMBER = context.NUMBER, "Number"
        BOOLEAN = context.BOOLEAN, "Boolean"

    workstream = models.ForeignKey(
        Workstream, on_delete=models.CASCADE, related_name="context_variables"
    )
    name = models.CharField(
        max_length=100,
        validators=[MinLengthValidator(1), MaxLengthValidator(100)],
        help_text="The exact, case-sensitive key used in the token's lwicontexts.",
    )
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT)
    display_to_agent = models.BooleanField(default=True)

    class Meta:
        ordering = ["workstream_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["workstream", "name"], name="context_variable_unique_per_workstream"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.name != self.name.strip() or any(ch < " " for ch in self.name):
            raise ValidationError(
                {"name": "Remove spaces at either end and control characters from the name."}
            )
        if self.workstream_id:
            others = self.workstream.context_variables.exclude(pk=self.pk)
            if others.count() >= Workstream.MAX_VARIABLES:
                raise ValidationError(
                    {
                        "workstream": f"A workstream has at most {Workstream.MAX_VARIABLES} "
                        "context variables; remove one before adding another."
                    }
                )


class RoutingRule(TimeStampedModel):
    workstream = models.ForeignKey(
        Workstream, on_delete=models.CASCADE, related_name="routing_rules"
    )
    name = models.CharField(max_length=200)
    order = models.IntegerField(default=0, help_text="Lower runs first.")
    conditions = models.JSONField(
        default=list,
        blank=True,
        help_text='All must hold. Example: [{"variable": "authenticated", "operator": "eq", '
        '"value": true}, {"variable": "msdyn_cartvalue", "operator": "ge", "value": 1000}]',
    )
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="routing_rules")
    priority = models.IntegerField(default=0, help_text="Higher is served first.")

    class Meta:
        ordering = ["workstream_id", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.queue_id and self.workstream_id and self.queue.workstream_id != self.workstream_id:
            errors["queue"] = "Choose a queue of the rule's workstream."
        if self.workstream_id:
            problems = rule_conditions.problems(self.conditions, self.workstream.variable_types())
            if problems:
                errors["conditions"] = problems
        if errors:
            raise ValidationError(errors)
