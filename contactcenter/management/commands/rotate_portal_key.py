"""Give the sample portal a new signing key; the old ones stay published until they expire."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand

from contactcenter.portal import keys


class Command(BaseCommand):
    help = "Add a new signing key to the sample portal and make it the one that signs."

    def handle(self, *args, **options):
        key = keys.rotate()
        self.stdout.write(f"New current key: {key.kid}")
        for published in keys.published_keys():
            expiry = datetime.fromtimestamp(published.expiry, UTC).isoformat()
            self.stdout.write(f"  published: {published.kid}  (expires {expiry})")
