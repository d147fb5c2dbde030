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
