"""Context variables and routing rules keep to what routing can use."""

from __future__ import annotations

import pytest

from contactcenter.models import ChannelType
from tests.helpers import errors_of
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def rule(workstream, *conditions) -> RoutingRule:
    return RoutingRule(
        workstream=workstream,
        name="rule",
        conditions=list(conditions),
        queue=workstream.default_queue,
    )


def test_context_variable_names_are_case_sensitive_and_unique_per_workstream(workstream):
    ContextVariable(workstream=workstream, name="MSDYN_CARTVALUE").full_clean()
    errors = errors_of(ContextVariable(workstream=workstream, name="msdyn_cartvalue"))
    assert "__all__" in errors


@pytest.mark.parametrize("name", ["", " padded", "tab\there", "x" * 101])
def test_a_context_variable_name_is_1_to_100_plain_characters(workstream, name):
    assert "name" in errors_of(ContextVariable(workstream=workstream, name=name))


def test_a_workstream_holds_at_most_100_context_variables(workstream):
    ContextVariable.objects.bulk_create(
        ContextVariable(workstream=workstream, name=f"variable_{n}") for n in range(98)
    )
    errors = errors_of(ContextVariable(workstream=workstream, name="one_too_many"))
    assert errors["workstream"] == [
        "A workstream has at most 100 context variables; remove one before adding another."
    ]


def test_the_default_queue_belongs_to_the_workstream(workstream):
    other = Workstream.objects.create(name="Other", channel_type=ChannelType.LIVE_CHAT)
    other.default_queue = workstream.default_queue
    assert errors_of(other)["default_queue"] == [
        "Choose a queue of this workstream as its default queue."
    ]


def test_a_valid_rule_on_authentication_and_context_saves(workstream):
    routing_rule = rule(
        workstream,
        {"variable": "authenticated", "operator": "eq", "value": True},
        {"variable": "msdyn_cartvalue", "operator": "ge", "value": "1000"},
        {"variable": "msdyn_isvip", "operator": "exists"},
    )
    routing_rule.full_clean()
    routing_rule.save()


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"variable": "loyalty", "operator": "eq", "value": 1}, "is neither 'authenticated'"),
        ({"variable": "msdyn_isvip", "operator": "like", "value": True}, "the operator must be"),
        ({"variable": "msdyn_isvip", "operator": "gt", "value": True}, "gt compares numbers"),
        ({"variable": "msdyn_cartvalue", "operator": "contains", "value": 1}, "contains works"),
        ({"variable": "msdyn_cartvalue", "operator": "ge", "value": "abc"}, "does not fit"),
        ({"variable": "msdyn_cartvalue", "operator": "ge"}, "give a value"),
        ({"variable": "msdyn_isvip", "operator": "eq", "value": True, "x": 1}, "unknown keys x"),
        ("authenticated", 'give an object with "variable"'),
    ],
)
def test_a_rule_condition_names_a_variable_an_operator_and_a_fitting_value(
    workstream, condition, message
):
    errors = errors_of(rule(workstream, condition))
    assert message in errors["conditions"][0]
    assert errors["conditions"][0].startswith("Condition 1:")


def test_conditions_must_be_a_list(workstream):
    routing_rule = rule(workstream)
    routing_rule.conditions = {"variable": "authenticated"}
    assert errors_of(routing_rule)["conditions"] == [
        'Conditions are a list of {"variable", "operator", "value"} objects.'
    ]


def test_a_rule_routes_only_to_a_queue_of_its_workstream(workstream):
    other = Workstream.objects.create(name="Other", channel_type=ChannelType.LIVE_CHAT)
    routing_rule = rule(workstream)
    routing_rule.queue = Queue.objects.create(name="Elsewhere", workstream=other)
    assert errors_of(routing_rule)["queue"] == ["Choose a queue of the rule's workstream."]
