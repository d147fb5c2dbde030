"""Which queue a new conversation joins, and at what priority.

The first rule (by `order`) whose conditions all hold routes the conversation; when none does,
the workstream's default queue takes it at priority 0. A condition on a variable the
conversation does not carry holds only for no operator (`exists` is false).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workstreams import context

AUTHENTICATED = "authenticated"

COMPARISONS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
    "contains": lambda value, part: part in value,
}


class NoRoute(Exception):
    """No rule matched and the workstream has no default queue."""


@dataclass(frozen=True)
class Route:
    queue_id: int
    priority: int
    rule: str | None  # the name of the rule that matched; None for the default queue


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: list[dict]
    queue_id: int
    priority: int


def route(workstream, *, authenticated: bool, context: Mapping[str, object]) -> Route:
    """Route a conversation in a workstream (rules and variables read from the database)."""
    rules = [
        Rule(rule.name, rule.conditions, rule.queue_id, rule.priority)
        for rule in workstream.routing_rules.order_by("order", "id")
    ]
    variable_types = dict(workstream.context_variables.values_list("name", "type"))
    return choose_route(
        rules,
        default_queue_id=workstream.default_queue_id,
        variable_types=variable_types,
        authenticated=authenticated,
        context=context,
    )


def choose_route(
    rules: Iterable[Rule],
    *,
    default_queue_id: int | None,
    variable_types: Mapping[str, str],
    authenticated: bool,
    context: Mapping[str, object],
) -> Route:
    """Pick the route from rules already in order. Raises NoRoute."""
    facts = {**context, AUTHENTICATED: authenticated}
    types = {**variable_types, AUTHENTICATED: "boolean"}
    for rule in rules:
        if all(holds(condition, facts, types) for condition in rule.conditions):
            return Route(rule.queue_id, rule.priority, rule.name)
    if default_queue_id is None:
        raise NoRoute
    return Route(default_queue_id, 0, None)


def holds(condition: Mapping, facts: Mapping[str, object], types: Mapping[str, str]) -> bool:
    name, comparison = condition["variable"], condition["operator"]
    value = facts.get(name)
    if comparison == "exists":
        return value is not None
    if value is None or name not in types:
        return False
    try:
        expected = context.convert(types[name], condition.get("value"))
    except context.ContextValueError:
        return False
    if expected is None:
        return False
    try:
        return bool(COMPARISONS[comparison](value, expected))
    except (KeyError, TypeError):
        return False
