"""Small helpers shared by tests."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError


def errors_of(record) -> dict[str, list[str]]:
    """The messages by field that full_clean() raises for a record that must be refused."""
    with pytest.raises(ValidationError) as caught:
        record.full_clean()
    return caught.value.message_dict
