"""Re-encrypt every stored secret with the newest key of FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from authsettings.models import AuthenticationSetting


class Command(BaseCommand):
    help = (
        "After putting a new key first in FIELD_ENCRYPTION_KEYS, re-encrypt stored secrets "
        "with it; the old keys can then be removed."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            rows = (
                AuthenticationSetting.objects.select_for_update()
                .exclude(client_secret="")
                .values_list("pk", "client_secret")
            )
            # update() writes the same secret again, encrypted with the newest key; it is
            # not a change of secret, so neither history nor the change date move.
            for pk, secret in rows:
                AuthenticationSetting.objects.filter(pk=pk).update(client_secret=secret)
        self.stdout.write(f"Re-encrypted {len(rows)} secret(s).")
