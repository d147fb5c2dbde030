"""Pieces every app shares: timestamps, named records, channel types, API clients' scopes."""

from __future__ import annotations

from django.db import models
from oauth2_provider.models import Application


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class NamedModel(TimeStampedModel):
    """A record people know by its name: listed and shown by it. Subclasses declare `name`."""

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class ChannelType(models.TextChoices):
    LIVE_CHAT = "live_chat", "Live chat"
    APPLE_MESSAGES_FOR_BUSINESS = "apple_messages_for_business", "Apple Messages for Business"


class ApiClient(TimeStampedModel):
    """The scopes an OAuth 2.0 application may be granted (client-credentials API clients)."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="api_client"
    )
    scopes = models.CharField(max_length=255, help_text="Space separated scopes.")

    class Meta:
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.application.name

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
