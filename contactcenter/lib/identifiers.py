"""Reading identifiers that arrive as text."""

from __future__ import annotations

import uuid


def is_uuid(value: object) -> bool:
    """Whether the value is a string holding a UUID."""
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
