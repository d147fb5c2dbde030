"""Which queue a new conversation joins, and at what priority.

The first rule (by `order`) whose conditions all hold routes the conversation; when none does,
the workstream's default queue takes it at priority 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workstreams import conditions


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
    return choose_route(
        rules,
        default_queue_id=workstream.default_queue_id,
        variable_types=workstream.variable_types(),
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
    facts = {**context, conditions.AUTHENTICATED: authenticated}
    types = conditions.nameable_types(variable_types)
    for rule in rules:
        if all(conditions.holds(condition, facts, types) for condition in rule.conditions):
            return Route(rule.queue_id, rule.priority, rule.name)
    if default_queue_id is None:
        raise NoRoute
    return Route(default_queue_id, 0, None)
