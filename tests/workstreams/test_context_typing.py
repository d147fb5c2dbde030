"""Accepting a token's lwicontexts for a workstream's context variables."""

from __future__ import annotations

import json

import pytest

from workstreams.context import (
    MAX_CONTEXT_BYTES,
    MAX_CONTEXT_VARIABLES,
    ContextInvalid,
    accept_context,
)

VARIABLES = {"msdyn_cartvalue": "number", "msdyn_isvip": "boolean", "customer_tier": "text"}


def refusal(raw: object) -> str:
    with pytest.raises(ContextInvalid) as caught:
        accept_context(raw, VARIABLES)
    return str(caught.value)


@pytest.mark.parametrize("raw", [None, {}, "{}"])
def test_no_lwicontexts_means_no_context(raw):
    assert accept_context(raw, VARIABLES) == ({}, [])


def test_it_converts_values_to_the_variables_types():
    raw = {"msdyn_cartvalue": "10000", "msdyn_isvip": "TRUE", "customer_tier": 3}

    context, dropped = accept_context(raw, VARIABLES)

    assert context == {"msdyn_cartvalue": 10000, "msdyn_isvip": True, "customer_tier": "3"}
    assert dropped == []


def test_it_accepts_a_string_holding_an_object():
    raw = json.dumps({"msdyn_cartvalue": 12.5, "msdyn_isvip": False})

    assert accept_context(raw, VARIABLES) == ({"msdyn_cartvalue": 12.5, "msdyn_isvip": False}, [])


def test_it_drops_and_lists_variables_the_workstream_does_not_define():
    raw = {"unknown": {"any": "thing"}, "msdyn_isvip": True, "MSDYN_ISVIP": "x", "also": None}

    assert accept_context(raw, VARIABLES) == (
        {"msdyn_isvip": True},
        ["unknown", "MSDYN_ISVIP", "also"],
    )


def test_a_null_value_counts_as_absent():
    assert accept_context({"msdyn_cartvalue": None}, VARIABLES) == ({}, [])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"msdyn_cartvalue": "abc"}, "msdyn_cartvalue: 'abc' is not a number"),
        ({"msdyn_cartvalue": True}, "msdyn_cartvalue: a number variable takes"),
        ({"msdyn_isvip": "yes"}, "msdyn_isvip: a boolean variable takes"),
        ({"msdyn_isvip": 1}, "msdyn_isvip: a boolean variable takes"),
        ({"customer_tier": {"nested": 1}}, "customer_tier: a text variable takes"),
        ({"customer_tier": ["a"]}, "customer_tier: a text variable takes"),
        ({"customer_tier": False}, "customer_tier: a text variable takes"),
        ({"customer_tier": "x" * 4001}, "at most 4000 characters"),
    ],
)
def test_it_refuses_a_value_its_variable_does_not_take(raw, reason):
    assert reason in refusal(raw)


@pytest.mark.parametrize(
    "text", ["NaN", "sNaN", "-sNaN1", "Infinity", "-inf", "1e999999", "1e1000000", "-9e99999999999"]
)
def test_it_refuses_numeric_text_for_nan_infinity_or_beyond_a_float(text):
    assert "msdyn_cartvalue: a number variable takes a finite number" in refusal(
        {"msdyn_cartvalue": text}
    )


@pytest.mark.parametrize("raw", [[], ["a"], 5, True, "[]", '"{}"', "null", "", "not json", "{"])
def test_it_refuses_lwicontexts_that_is_not_an_object_or_a_string_holding_one(raw):
    refusal(raw)


def test_it_refuses_duplicate_names():
    assert "names 'msdyn_isvip' more than once" in refusal(
        '{"msdyn_isvip": true, "msdyn_isvip": false}'
    )


def test_it_refuses_json_constants_that_are_not_json():
    refusal('{"msdyn_cartvalue": NaN}')


def test_it_refuses_text_that_is_not_valid_unicode():
    refusal({"customer_tier": "\ud800"})
    refusal('{"customer_tier": "\\ud800"}')


def test_it_takes_up_to_4_kib_of_serialized_json():
    exactly = {"note": "x" * (MAX_CONTEXT_BYTES - len('{"note":""}'))}
    one_more = {"note": exactly["note"] + "x"}

    assert accept_context(exactly, VARIABLES) == ({}, ["note"])
    assert accept_context(json.dumps(exactly, separators=(",", ":")), VARIABLES) == ({}, ["note"])
    assert "at most 4096 bytes" in refusal(one_more)
    assert "at most 4096 bytes" in refusal(json.dumps(one_more, separators=(",", ":")))


def test_it_counts_the_size_in_bytes_of_utf_8():
    assert "at most 4096 bytes" in refusal({"customer_tier": "é" * 2100})


def test_it_takes_up_to_100_variables():
    hundred = {f"v{number}": number for number in range(MAX_CONTEXT_VARIABLES)}

    assert len(accept_context(hundred, VARIABLES)[1]) == 100
    assert "at most 100 variables" in refusal({**hundred, "one_more": 1})


def test_it_refuses_deeply_nested_json_without_crashing():
    refusal("[" * 2000 + "]" * 2000)
