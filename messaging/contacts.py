"""Linking a verified subject to a contact record."""

from __future__ import annotations

import uuid

from messaging.models import Contact


def contact_for_subject(subject: str | None) -> Contact | None:
    """The active contact whose id is the subject, when the subject is a UUID; else None."""
    if not subject:
        return None
    try:
        contact_id = uuid.UUID(subject)
    except ValueError:
        return None
    return Contact.objects.filter(id=contact_id, status=Contact.Status.ACTIVE).first()
