"""How every API write is validated: by the model's own rules, with errors keyed by field."""

from __future__ import annotations

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings
from rest_framework.validators import UniqueValidator


class ModelCleanSerializer(serializers.ModelSerializer):
    """A model serializer whose rules are the model's own.

    `validate()` builds the instance the request describes, runs `full_clean()` on it (field
    validators, `clean()`, uniqueness and constraints) and reports Django's errors as DRF's
    `{"field": ["message"]}`. Uniqueness is left to `full_clean()` rather than checked twice.
    Values the model normalizes in `clean()` are the ones saved.
    """

    def get_validators(self) -> list:
        return []

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if "validators" in field_kwargs:
            field_kwargs["validators"] = [
                validator
                for validator in field_kwargs["validators"]
                if not isinstance(validator, UniqueValidator)
            ]
        return field_class, field_kwargs

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        many = {field.name for field in self.Meta.model._meta.many_to_many}
        instance = self.build_instance({k: v for k, v in attrs.items() if k not in many})
        try:
            self.clean_instance(instance, {k: v for k, v in attrs.items() if k in many})
        except DjangoValidationError as error:
            raise serializers.ValidationError(api_errors(error)) from None
        return {name: attrs[name] if name in many else getattr(instance, name) for name in attrs}

    def build_instance(self, values: dict):
        """The record as it would be saved; the stored one is left untouched."""
        if self.instance is None:
            return self.Meta.model(**values)
        instance = copy.copy(self.instance)
        for name, value in values.items():
            setattr(instance, name, value)
        return instance

    def clean_instance(self, instance, relations: dict) -> None:
        """Run the model's rules; subclasses add the rules on many-to-many relations."""
        instance.full_clean()


def api_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """Django's errors keyed by field. A clash with a unique constraint over several fields
    (workstream and name) is reported on the last of them, the one a client would change."""
    detail: dict[str, list[str]] = {}
    for field, errors in error.update_error_dict({}).items():
        for item in errors:
            key = field
            if field == NON_FIELD_ERRORS:
                if item.code == "unique_together":
                    key = item.params["unique_check"][-1]
                else:
                    key = api_settings.NON_FIELD_ERRORS_KEY
            detail.setdefault(key, []).extend(item.messages)
    return detail


def contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


class StorableJSONField(serializers.JSONField):
    """JSON as PostgreSQL's jsonb can store it: without NUL characters."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if contains_nul(value):
            raise serializers.ValidationError("Text cannot contain NUL characters.")
        return value


@extend_schema_field({"type": "object", "additionalProperties": {}})
class ObjectField(StorableJSONField):
    """A JSON object; what it may hold is the model's rule."""
