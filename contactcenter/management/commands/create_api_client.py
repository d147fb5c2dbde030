"""Create an OAuth 2.0 client-credentials client for the REST API."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.text import slugify
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from contactcenter.api.scopes import API_SCOPES
from contactcenter.models import ApiClient


class Command(BaseCommand):
    help = 'Create an API client and print {"client_id", "client_secret"} as one JSON line.'

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Space separated, from: {' '.join(API_SCOPES)}",
        )

    def handle(self, *args, name: str, scopes: str, **options):
        requested = scopes.split()
        unknown = sorted(set(requested) - set(API_SCOPES))
        if unknown or not requested:
            choices = " ".join(API_SCOPES)
            raise CommandError(f"Unknown or missing scopes {' '.join(unknown)}; choose {choices}.")
        if Application.objects.filter(name=name).exists():
            raise CommandError(f"An API client named {name!r} exists already.")
        secret = generate_client_secret()
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(
                username=f"api-client-{slugify(name)}"[:150]
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            application = Application.objects.create(
                name=name,
                user=user,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                client_secret=secret,
            )
            ApiClient.objects.create(application=application, scopes=" ".join(requested))
        self.stdout.write(json.dumps({"client_id": application.client_id, "client_secret": secret}))
