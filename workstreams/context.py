"""Typing of context variable values (CONTRACT.md, `lwicontexts`).

Plain functions on plain values: used when a token's context is accepted and when a routing
rule's value is checked.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation

from contactcenter.lib.strict_json import DuplicateMember, reject_constant, without_duplicates

MAX_VALUE_LENGTH = 4000
# Beyond this, numbers are kept as floats, so "1e999999" cannot make a giant integer.
MAX_EXACT_INTEGER = 10**18
# lwicontexts as a whole, serialized as JSON.
MAX_CONTEXT_BYTES = 4096
MAX_CONTEXT_VARIABLES = 100

TEXT = "text"
NUMBER = "number"
BOOLEAN = "boolean"

Value = str | int | float | bool


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
    if "\x00" in text:
        raise ContextValueError("a text value cannot hold a NUL character")
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
        if not number.is_finite():
            raise ContextValueError("a number variable takes a finite number")
        # copy_abs(), unlike abs(), takes no decimal context, which overflows on "1e1000000".
        if number.copy_abs() < MAX_EXACT_INTEGER and number == number.to_integral_value():
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


class ContextInvalid(ValueError):
    """A token's lwicontexts that cannot be accepted (the `context_invalid` error code); the
    message says why."""


def accept_context(
    raw: object, variable_types: dict[str, str]
) -> tuple[dict[str, Value], list[str]]:
    """Accept a token's `lwicontexts` for a workstream whose variables are `variable_types`
    (name -> type).

    Returns the defined variables' values, converted to their types (a null value is absent),
    and the names the workstream does not define, which are dropped. Raises ContextInvalid.
    """
    context: dict[str, Value] = {}
    dropped: list[str] = []
    for name, value in _context_object(raw).items():
        if name not in variable_types:
            dropped.append(name)
            continue
        try:
            converted = convert(variable_types[name], value)
        except ContextValueError as error:
            raise ContextInvalid(f"{name}: {error}") from None
        if converted is not None:
            context[name] = converted
    return context, dropped


def _context_object(raw: object) -> dict[str, object]:
    """The variables of lwicontexts: absent, a JSON object or a string holding one."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        _check_context_size(_utf8(raw))
        variables = _parse_context(raw)
        # Escapes such as "\ud800" parse into text that is not valid Unicode.
        _utf8(_compact_json(variables))
    elif isinstance(raw, dict):
        variables = raw
        _check_context_size(_utf8(_compact_json(raw)))
    else:
        raise ContextInvalid("lwicontexts must be a JSON object or a string holding one")
    if len(variables) > MAX_CONTEXT_VARIABLES:
        raise ContextInvalid(f"lwicontexts holds at most {MAX_CONTEXT_VARIABLES} variables")
    return variables


def _parse_context(text: str) -> dict[str, object]:
    try:
        variables = json.loads(
            text, object_pairs_hook=without_duplicates, parse_constant=reject_constant
        )
    except DuplicateMember as duplicate:
        raise ContextInvalid(f"lwicontexts names {duplicate.name[:100]!r} more than once") from None
    except (ValueError, RecursionError):
        raise ContextInvalid("lwicontexts is a string but not JSON") from None
    if not isinstance(variables, dict):
        raise ContextInvalid("lwicontexts must be a JSON object or a string holding one")
    return variables


def _compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ContextInvalid("lwicontexts holds text that is not valid Unicode") from None


def _check_context_size(serialized: bytes) -> None:
    if len(serialized) > MAX_CONTEXT_BYTES:
        raise ContextInvalid(f"lwicontexts is at most {MAX_CONTEXT_BYTES} bytes as JSON")
