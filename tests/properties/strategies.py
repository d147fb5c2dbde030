"""Hypothesis strategies for what arrives from outside: JSON values, and JSON texts a serializer
would never write (duplicate members, deep nesting, unpaired surrogate escapes)."""

from __future__ import annotations

import json

from hypothesis import strategies as st


def mostly(usual: st.SearchStrategy, other: st.SearchStrategy) -> st.SearchStrategy:
    """A draw from `usual` three times in four, else from `other` (shrinking towards `usual`),
    so that most examples get past the checks `other` would fail."""
    return st.integers(min_value=0, max_value=3).flatmap(lambda draw: other if draw == 3 else usual)


# Text with lone surrogates, which JSON can carry as \ud800-style escapes (st.text() would
# leave the surrogates out of a mixed alphabet).
surrogate_text = st.lists(
    st.characters() | st.characters(categories=["Cs"]), min_size=1, max_size=8
).map("".join)

huge_numbers = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([1e308, -1e308, 5e-324, 10**13, -(10**13), 2**63, 2**64]),
)

# JSON scalars as a serializer writes them from valid text.
unicode_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    huge_numbers,
    st.text(max_size=20),
)
scalars = unicode_scalars | surrogate_text

json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def json_text(value: object) -> str:
    """JSON as a serializer writes it, surrogates escaped."""
    return json.dumps(value)


@st.composite
def objects_with_duplicates(draw: st.DrawFn, names: st.SearchStrategy[str]) -> str:
    """The text of a JSON object that may name a member more than once."""
    pairs = draw(st.lists(st.tuples(names, json_values), max_size=5))
    return "{" + ",".join(f"{json_text(name)}:{json_text(value)}" for name, value in pairs) + "}"


@st.composite
def deeply_nested(draw: st.DrawFn) -> str:
    """A JSON text nested deeper than the parser can follow, or nearly so."""
    depth = draw(st.integers(min_value=900, max_value=2000))
    opening, closing = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return opening * depth + "1" + closing * depth


json_texts = st.one_of(
    json_values.map(json_text),
    objects_with_duplicates(st.text(max_size=3)),
    deeply_nested(),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "{", "", "1" * 5000, '"\\ud800"']),
)
