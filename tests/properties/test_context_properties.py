"""lwicontexts on any input: the context and the dropped names, or ContextInvalid, never
another exception; and every accepted value has its variable's type."""

from __future__ import annotations

import math

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.properties.strategies import (
    huge_numbers,
    json_text,
    json_texts,
    json_values,
    objects_with_duplicates,
)
from workstreams.context import (
    BOOLEAN,
    MAX_VALUE_LENGTH,
    NUMBER,
    TEXT,
    ContextInvalid,
    Value,
    accept_context,
)

fuzz = settings(max_examples=300, deadline=None)

DEFINED = ("msdyn_cartvalue", "msdyn_isvip", "customer_tier")
names = st.sampled_from(DEFINED) | st.text(max_size=6)
type_names = st.sampled_from([TEXT, NUMBER, BOOLEAN]) | st.text(max_size=8)

# The DEFINED names, each of a known type or any other, and maybe more names.
variable_types = st.tuples(
    st.fixed_dictionaries({}, optional=dict.fromkeys(DEFINED, type_names)),
    st.dictionaries(names, type_names, max_size=3),
).map(lambda maps: {**maps[1], **maps[0]})

# Values the types take or almost take: numbers as text, booleans in any case.
value_like = st.one_of(
    st.decimals(allow_nan=True).map(str),
    st.floats().map(str),
    st.integers().map(str),
    st.tuples(st.floats(allow_nan=False, allow_infinity=False), huge_numbers).map(
        lambda number: f"{number[0]}e{number[1]}"[:MAX_VALUE_LENGTH]
    ),
    st.sampled_from(["true", "FALSE", "True ", "yes", "1e999999", " 12 ", "1_000", "0x10"]),
    st.text(alphabet="a\x00", max_size=MAX_VALUE_LENGTH + 2),
)

raw_contexts = st.one_of(
    json_values,
    st.dictionaries(names, json_values | value_like, max_size=6),
    st.dictionaries(names, json_values | value_like, max_size=6).map(json_text),
    objects_with_duplicates(names),
    json_texts,
)


def context_or_refusal(
    raw: object, types: dict[str, str]
) -> tuple[dict[str, Value], list[str]] | ContextInvalid:
    """What accept_context() makes of lwicontexts: the context and the dropped names, or the
    refusal. Any other exception fails the test."""
    try:
        result = accept_context(raw, types)
    except ContextInvalid as refusal:
        event("refused")
        assert str(refusal)
        return refusal
    event("accepted with values" if result[0] else "accepted, empty")
    return result


def has_type(value: Value, variable_type: str) -> bool:
    if variable_type == NUMBER:
        if isinstance(value, float):
            return math.isfinite(value)
        return isinstance(value, int) and not isinstance(value, bool)
    if variable_type == BOOLEAN:
        return isinstance(value, bool)
    if variable_type == TEXT:
        return isinstance(value, str) and len(value) <= MAX_VALUE_LENGTH and "\x00" not in value
    return False


@fuzz
@given(raw=raw_contexts, types=variable_types)
def test_any_lwicontexts_is_accepted_with_typed_values_or_refused(raw, types):
    result = context_or_refusal(raw, types)

    if isinstance(result, ContextInvalid):
        return
    context, dropped = result
    assert all(has_type(value, types[name]) for name, value in context.items())
    assert all(name not in types for name in dropped)
    assert not set(context) & set(dropped)


@fuzz
@given(variable_type=st.sampled_from([TEXT, NUMBER, BOOLEAN]), value=json_values | value_like)
def test_any_value_of_a_variable_is_converted_to_its_type_or_refused(variable_type, value):
    result = context_or_refusal({"v": value}, {"v": variable_type})

    if not isinstance(result, ContextInvalid):
        context, _ = result
        assert value is None or has_type(context["v"], variable_type)


@fuzz
@given(
    number=st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1)
    | st.floats(min_value=-(2**53), max_value=2**53, exclude_min=True, exclude_max=True)
)
def test_a_number_and_its_text_give_the_same_number(number):
    context, _ = accept_context({"n": number, "s": str(number)}, {"n": NUMBER, "s": NUMBER})

    assert context["n"] == context["s"] == number


@fuzz
@given(
    word=st.sampled_from(["true", "false"]), upper=st.lists(st.booleans(), min_size=5, max_size=5)
)
def test_a_boolean_in_any_case_gives_the_boolean(word, upper):
    text = "".join(c.upper() if up else c for c, up in zip(word, upper, strict=False))

    context, _ = accept_context({"b": text}, {"b": BOOLEAN})

    assert context == {"b": word == "true"}
