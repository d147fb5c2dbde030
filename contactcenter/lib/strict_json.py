"""JSON as the platform reads it from outside: standard JSON only, and values shown briefly."""

from __future__ import annotations


def reject_constant(name: str) -> None:
    """For json.loads(parse_constant=...): NaN and Infinity are not JSON. Raises ValueError."""
    raise ValueError(f"{name} is not JSON")


def shown(value: object, limit: int = 60) -> str:
    """A short rendering of an outside value, for an error's detail."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


class DuplicateMember(ValueError):
    """A JSON object names `name` more than once."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """For json.loads(object_pairs_hook=...): an object naming a member twice is refused, where
    plain JSON parsing would silently keep the last. Raises DuplicateMember."""
    value: dict[str, object] = {}
    for name, member in pairs:
        if name in value:
            raise DuplicateMember(name)
        value[name] = member
    return value
