"""Create or update an agent: a staff user in the Agents group, on the queues named."""

from __future__ import annotations

import json
import secrets

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from messaging.models import AGENTS_GROUP
from workstreams.models import Queue


class Command(BaseCommand):
    help = (
        "Create or update an agent (a staff user in the Agents group) and add them to the "
        'queues given; print {"username", "password"} as one JSON line. The password is '
        "generated for a new user given none, and null when an existing one's is unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", help="Set this password (new or existing user).")
        parser.add_argument(
            "--queue",
            type=int,
            action="extend",
            nargs="+",
            default=[],
            dest="queue_ids",
            metavar="ID",
            help="A queue to add the agent to; repeat it or list several ids.",
        )

    def handle(self, *args, username: str, password: str | None, queue_ids: list[int], **opts):
        queues = list(Queue.objects.filter(pk__in=queue_ids))
        unknown = sorted(set(queue_ids) - {queue.pk for queue in queues})
        if unknown:
            raise CommandError(f"No queue has the id {', '.join(map(str, unknown))}.")
        with transaction.atomic():
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                user = get_user_model()(username=username)
                password = password or secrets.token_urlsafe(12)
            user.is_staff = True
            if password is not None:
                check_password(password, user)
                user.set_password(password)
            try:
                user.full_clean()
            except ValidationError as error:
                raise CommandError(describe(error)) from None
            user.save()
            user.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
            user.queues.add(*queues)
        self.stdout.write(json.dumps({"username": user.get_username(), "password": password}))


def check_password(password: str, user) -> None:
    """Raises CommandError when Django's password validators refuse the password."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise CommandError(f"password: {' '.join(error.messages)}") from None


def describe(error: ValidationError) -> str:
    return "; ".join(
        f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
    )
