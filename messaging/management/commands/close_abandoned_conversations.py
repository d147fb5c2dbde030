"""Close waiting chats whose visitor has been gone ten minutes."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from messaging import actions


class Command(BaseCommand):
    help = (
        "Close, as abandoned, the waiting chats whose visitor has had no socket open for ten "
        'minutes, and print {"closed": <how many>} as one JSON line. Every server process '
        "does this each minute; schedule the command where no process may be running."
    )

    def handle(self, *args, **options):
        closed = actions.do_close_abandoned_conversations(now=timezone.now())
        self.stdout.write(json.dumps({"closed": closed}))
