"""Typing of context variable values (CONTRACT.md, `lwicontexts`).

Plain functions on plain values: used when a token's context is accepted and when a routing
rule's value is checked.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

MAX_VALUE_LENGTH = 4000
# Beyond this, numbers are kept as floats, so "1e999999" cannot make a giant integer.
MAX_EXACT_INTEGER = 10**18

TEXT = "text"
NUMBER = "number"
BOOLEAN = "boolean"


class ContextValueError(ValueError):
    """A value that cannot be converted to its variable's type; the message says why."""


def convert(variable_type: str, value: object) -> str | int | float | bool | None:
    """Convert a value to a variable's type; `None` stays `None` (absent).

    Raises ContextValueError for anything the type does not take.
    """
    if value is None:
        return None
    if variable_type == TEXT:
        return _to_text(value)
    if variable_type == NUMBER:
        return _to_number(value)
    if variable_type == BOOLEAN:
        return _to_boolean(value)
    raise ContextValueError(f"unknown variable type {variable_type!r}")


def _to_text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ContextValueError("a text variable takes a string or a number")
    text = value if isinstance(value, str) else _number_text(value)
    if len(text) > MAX_VALUE_LENGTH:
        raise ContextValueError(f"a value is at most {MAX_VALUE_LENGTH} characters")
    return text


def _number_text(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return str(number)


def _to_number(value: object) -> int | float:
    if isinstance(value, bool):
        raise ContextValueError("a number variable takes a number or a numeric string")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ContextValueError("a number variable takes a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_VALUE_LENGTH:
            raise ContextValueError(f"a value is at most {MAX_VALUE_LENGTH} characters")
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ContextValueError(f"{value[:40]!r} is not a number") from None
        exact = number.is_finite() and abs(number) < MAX_EXACT_INTEGER
        if exact and number == number.to_integral_value():
            return int(number)
        as_float = float(number)
        if not math.isfinite(as_float):
            raise ContextValueError("a number variable takes a finite number")
        return as_float
    raise ContextValueError("a number variable takes a number or a numeric string")


def _to_boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ContextValueError('a boolean variable takes true, false, "true" or "false"')
