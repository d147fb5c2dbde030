"""Workstreams, their queues, the context variables their tokens may carry, and routing rules."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models

from contactcenter.models import ChannelType, TimeStampedModel
from workstreams import context

MAX_CONTEXT_VARIABLES = 100


class Workstream(TimeStampedModel):
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

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.default_queue_id and self.default_queue.workstream_id != self.pk:
            raise ValidationError(
                {"default_queue": "Choose a queue of this workstream as its default queue."}
            )


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
            others = ContextVariable.objects.filter(workstream_id=self.workstream_id)
            if others.exclude(pk=self.pk).count() >= MAX_CONTEXT_VARIABLES:
                raise ValidationError(
                    {
                        "workstream": f"A workstream has at most {MAX_CONTEXT_VARIABLES} "
                        "context variables; remove one before adding another."
                    }
                )


class RoutingRule(TimeStampedModel):
    class Operator(models.TextChoices):
        EQ = "eq", "equals"
        NE = "ne", "does not equal"
        GT = "gt", "greater than"
        GE = "ge", "greater than or equal to"
        LT = "lt", "less than"
        LE = "le", "less than or equal to"
        CONTAINS = "contains", "contains"
        EXISTS = "exists", "exists"

    AUTHENTICATED = "authenticated"

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
            variable_types = dict(
                ContextVariable.objects.filter(workstream_id=self.workstream_id).values_list(
                    "name", "type"
                )
            )
            problems = condition_problems(self.conditions, variable_types)
            if problems:
                errors["conditions"] = problems
        if errors:
            raise ValidationError(errors)


ORDERING_OPERATORS = {"gt", "ge", "lt", "le"}


def condition_problems(conditions: object, variable_types: dict[str, str]) -> list[str]:
    """Say what is wrong with a rule's conditions, one message per problem (none: valid)."""
    if not isinstance(conditions, list):
        return ['Conditions are a list of {"variable", "operator", "value"} objects.']
    problems = []
    operators = set(RoutingRule.Operator.values)
    for number, condition in enumerate(conditions, start=1):
        where = f"Condition {number}"
        if (
            not isinstance(condition, dict)
            or not isinstance(condition.get("variable"), str)
            or not isinstance(condition.get("operator"), str)
        ):
            problems.append(f'{where}: give an object with "variable", "operator" and "value".')
            continue
        extra = set(condition) - {"variable", "operator", "value"}
        if extra:
            problems.append(f"{where}: remove the unknown keys {', '.join(sorted(extra))}.")
        variable, operator = condition["variable"], condition["operator"]
        if variable == RoutingRule.AUTHENTICATED:
            variable_type = context.BOOLEAN
        elif variable in variable_types:
            variable_type = variable_types[variable]
        else:
            problems.append(
                f"{where}: {variable!r} is neither 'authenticated' nor a context variable "
                "of this workstream; define the variable first."
            )
            continue
        if operator not in operators:
            problems.append(f"{where}: the operator must be one of {', '.join(sorted(operators))}.")
            continue
        if operator == "exists":
            continue
        if operator in ORDERING_OPERATORS and variable_type != context.NUMBER:
            problems.append(
                f"{where}: {operator} compares numbers; {variable!r} is {variable_type}."
            )
            continue
        if operator == "contains" and variable_type != context.TEXT:
            problems.append(f"{where}: contains works on text; {variable!r} is {variable_type}.")
            continue
        if "value" not in condition or condition["value"] is None:
            problems.append(f"{where}: give a value to compare {variable!r} with.")
            continue
        try:
            context.convert(variable_type, condition["value"])
        except context.ContextValueError as error:
            problems.append(f"{where}: the value does not fit {variable!r}: {error}.")
    return problems
