"""A condition that validates is one routing can evaluate, for every operator and type."""

from __future__ import annotations

import pytest

from workstreams import conditions, context

VALUES = {context.TEXT: "gold", context.NUMBER: 10, context.BOOLEAN: True}
TYPES = {f"a_{variable_type}": variable_type for variable_type in VALUES}

NAMEABLE = conditions.nameable_types(TYPES)
CANDIDATES = [
    {"variable": variable, "operator": operator, "value": VALUES[variable_type]}
    for variable, variable_type in NAMEABLE.items()
    for operator in conditions.OPERATORS
]
VALID = [condition for condition in CANDIDATES if not conditions.problems([condition], TYPES)]
# Whether each operator holds when the fact equals the condition's value, whatever the type it
# validates on (numbers for the orderings, text for contains).
EXPECTED = {
    "eq": True,
    "ne": False,
    "gt": False,
    "ge": True,
    "lt": False,
    "le": True,
    "contains": True,
    "exists": True,
}


def test_each_operator_validates_on_some_type():
    assert {condition["operator"] for condition in VALID} == set(conditions.OPERATORS)


@pytest.mark.parametrize("condition", VALID)
def test_every_valid_condition_holds_as_its_operator_says_on_an_equal_fact(condition):
    facts = {condition["variable"]: condition["value"]}
    assert conditions.holds(condition, facts, NAMEABLE) is EXPECTED[condition["operator"]]
    assert conditions.holds(condition, {}, NAMEABLE) is False


def test_the_operators_are_the_contracts():
    assert list(conditions.OPERATORS) == ["eq", "ne", "gt", "ge", "lt", "le", "contains", "exists"]


def test_a_stored_condition_the_variables_no_longer_fit_does_not_hold():
    condition = {"variable": "tier", "operator": "contains", "value": "old"}
    assert conditions.holds(condition, {"tier": 5}, {"tier": context.NUMBER}) is False
    assert conditions.holds(condition, {"tier": "gold"}, {}) is False
    unknown = {"variable": "tier", "operator": "like", "value": "old"}
    assert conditions.holds(unknown, {"tier": "gold"}, {"tier": context.TEXT}) is False
