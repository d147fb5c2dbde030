"""The conditions of routing rules: what a valid one says, and whether one holds.

A condition is `{"variable", "operator", "value"}`. The variable is `authenticated` or a context
variable of the rule's workstream; the value is converted to the variable's type before the
comparison, and `exists` takes none. A condition on a variable the conversation does not carry
holds only for no operator (`exists` is false).
"""

from __future__ import annotations

import operator as python_operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from workstreams import context

AUTHENTICATED = "authenticated"
KEYS = frozenset({"variable", "operator", "value"})


@dataclass(frozen=True)
class Operator:
    # None for an operator that takes no value and only asks whether the variable is there.
    compare: Callable[[object, object], bool] | None
    # The one variable type the operator works on (None: any), and how a refusal says so.
    variable_type: str | None = None
    works_on: str = ""


def _on_numbers(compare: Callable[[object, object], bool]) -> Operator:
    return Operator(compare, context.NUMBER, "compares numbers")


OPERATORS: dict[str, Operator] = {
    "eq": Operator(python_operator.eq),
    "ne": Operator(python_operator.ne),
    "gt": _on_numbers(python_operator.gt),
    "ge": _on_numbers(python_operator.ge),
    "lt": _on_numbers(python_operator.lt),
    "le": _on_numbers(python_operator.le),
    "contains": Operator(lambda value, part: part in value, context.TEXT, "works on text"),
    "exists": Operator(None),
}


def nameable_types(variable_types: Mapping[str, str]) -> dict[str, str]:
    """The type of each variable a condition may name: the workstream's and `authenticated`."""
    return {**variable_types, AUTHENTICATED: context.BOOLEAN}


def problems(conditions: object, variable_types: Mapping[str, str]) -> list[str]:
    """Say what is wrong with a rule's conditions for a workstream whose variables are
    `variable_types` (name -> type), one message per problem (none: valid)."""
    if not isinstance(conditions, list):
        return ['Conditions are a list of {"variable", "operator", "value"} objects.']
    types = nameable_types(variable_types)
    return [
        f"Condition {number}: {problem}"
        for number, condition in enumerate(conditions, start=1)
        for problem in _problems_of(condition, types)
    ]


def _problems_of(condition: object, types: Mapping[str, str]) -> Iterator[str]:
    if (
        not isinstance(condition, dict)
        or not isinstance(condition.get("variable"), str)
        or not isinstance(condition.get("operator"), str)
    ):
        yield 'give an object with "variable", "operator" and "value".'
        return
    extra = set(condition) - KEYS
    if extra:
        yield f"remove the unknown keys {', '.join(sorted(extra))}."
    variable, name = condition["variable"], condition["operator"]
    if variable not in types:
        yield (
            f"{variable!r} is neither {AUTHENTICATED!r} nor a context variable "
            "of this workstream; define the variable first."
        )
        return
    variable_type = types[variable]
    operator = OPERATORS.get(name)
    if operator is None:
        yield f"the operator must be one of {', '.join(sorted(OPERATORS))}."
        return
    if operator.compare is None:
        return
    if operator.variable_type not in (None, variable_type):
        yield f"{name} {operator.works_on}; {variable!r} is {variable_type}."
    elif condition.get("value") is None:
        yield f"give a value to compare {variable!r} with."
    else:
        try:
            context.convert(variable_type, condition["value"])
        except context.ContextValueError as error:
            yield f"the value does not fit {variable!r}: {error}."


def holds(condition: Mapping, facts: Mapping[str, object], types: Mapping[str, str]) -> bool:
    """Whether a stored condition holds for a conversation's `facts` (name -> typed value),
    `types` being `nameable_types()` of its workstream. A condition the workstream's variables
    no longer fit does not hold."""
    name = condition["variable"]
    value = facts.get(name)
    operator = OPERATORS.get(condition["operator"])
    if operator is None:
        return False
    if operator.compare is None:
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
        return bool(operator.compare(value, expected))
    except TypeError:
        return False
