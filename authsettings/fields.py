"""Model fields whose values are encrypted in the database."""

from __future__ import annotations

from django.db import models

from authsettings import crypto


class EncryptedTextField(models.TextField):
    """Text kept encrypted at rest; Python code sees the plaintext, the column never does.

    An empty value is stored as an empty string, so "no secret" stays queryable.
    """

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)


class OutboundURLField(models.URLField):
    """A URL the platform fetches; forms assume https when the scheme is left out."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 2000)
        super().__init__(*args, **kwargs)

    def formfield(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        return super().formfield(**kwargs)
