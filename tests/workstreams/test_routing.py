"""Conversations reach the queue and priority their rules say."""

from __future__ import annotations

import pytest

from tests.helpers import make_rule
from workstreams.models import Queue
from workstreams.routing import NoRoute, Route, Rule, choose_route, route

TYPES = {"msdyn_cartvalue": "number", "msdyn_isvip": "boolean", "tier": "text"}
VIP = Rule("VIP", [{"variable": "msdyn_isvip", "operator": "eq", "value": True}], 3, 10)
BIG_CART = Rule(
    "Big carts",
    [
        {"variable": "authenticated", "operator": "eq", "value": True},
        {"variable": "msdyn_cartvalue", "operator": "ge", "value": "1000"},
    ],
    2,
    5,
)
SIGNED_IN = Rule(
    "Signed in", [{"variable": "authenticated", "operator": "eq", "value": True}], 2, 1
)
RULES = [VIP, BIG_CART, SIGNED_IN]


def pick(*, authenticated=True, rules=RULES, default=1, **context):
    return choose_route(
        rules,
        default_queue_id=default,
        variable_types=TYPES,
        authenticated=authenticated,
        context=context,
    )


def test_the_first_matching_rule_wins():
    assert pick(msdyn_isvip=True, msdyn_cartvalue=5000) == Route(3, 10, "VIP")
    assert pick(msdyn_isvip=False, msdyn_cartvalue=5000) == Route(2, 5, "Big carts")
    assert pick(msdyn_cartvalue=999) == Route(2, 1, "Signed in")


def test_anonymous_conversations_fall_to_the_default_queue():
    assert pick(authenticated=False, msdyn_cartvalue=5000) == Route(1, 0, None)


def test_without_a_default_queue_an_unrouted_conversation_has_no_route():
    with pytest.raises(NoRoute):
        pick(authenticated=False, default=None)


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [
        ({"variable": "tier", "operator": "exists"}, {"tier": "gold"}, True),
        ({"variable": "tier", "operator": "exists"}, {}, False),
        ({"variable": "tier", "operator": "ne", "value": "gold"}, {}, False),
        ({"variable": "tier", "operator": "ne", "value": "gold"}, {"tier": "silver"}, True),
        ({"variable": "tier", "operator": "contains", "value": "old"}, {"tier": "gold"}, True),
        (
            {"variable": "msdyn_cartvalue", "operator": "lt", "value": 10},
            {"msdyn_cartvalue": 9.5},
            True,
        ),
        (
            {"variable": "msdyn_cartvalue", "operator": "le", "value": 10},
            {"msdyn_cartvalue": 11},
            False,
        ),
        (
            {"variable": "msdyn_cartvalue", "operator": "gt", "value": 10},
            {"msdyn_cartvalue": 11},
            True,
        ),
        (
            {"variable": "msdyn_isvip", "operator": "eq", "value": "TRUE"},
            {"msdyn_isvip": True},
            True,
        ),
    ],
)
def test_each_operator_compares_typed_values(condition, context, expected):
    rule = Rule("only", [condition], 9, 1)
    assert (pick(rules=[rule], **context).queue_id == 9) is expected


@pytest.mark.django_db
def test_a_workstreams_rules_are_read_in_order(workstream):
    vip = Queue.objects.create(name="VIP", workstream=workstream)
    make_rule(
        "later", order=20, when_true="authenticated", queue=workstream.default_queue, priority=1
    )
    make_rule("first", order=10, when_true="msdyn_isvip", queue=vip, priority=7)
    assert route(workstream, authenticated=True, context={"msdyn_isvip": True}) == Route(
        vip.pk, 7, "first"
    )
    assert route(workstream, authenticated=True, context={}).rule == "later"
    assert route(workstream, authenticated=False, context={}) == Route(
        workstream.default_queue_id, 0, None
    )
