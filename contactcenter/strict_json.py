"""JSON as the platform reads it from outside: standard JSON only, and values shown briefly."""

from __future__ import annotations


def reject_constant(name: str) -> None:
    """For json.loads(parse_constant=...): NaN and Infinity are not JSON. Raises ValueError."""
    raise ValueError(f"{name} is not JSON")


def shown(value: object, limit: int = 60) -> str:
    """A short rendering of an outside value, for an error's detail."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
