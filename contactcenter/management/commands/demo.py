"""Load the demo: an admin, an agent, a workstream routed by context, and an authenticated
chat widget wired to the sample portal. Running it again changes nothing."""

from __future__ import annotations

import os
import secrets
import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from contactcenter.portal_keys import signing_key_pem
from messaging.models import ChannelInstance, Contact, Deployment
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

AGENTS_GROUP = "Agents"
DEMO_CONTACT_ID = uuid.UUID("87b4d06c-abc2-e811-a9b0-000d3a10e09e")


class Command(BaseCommand):
    help = "Apply migrations and load the demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the platform is served; the sample portal's key URL is under it.",
        )

    def handle(self, *args, base_url: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        signing_key_pem()
        with transaction.atomic():
            admin_password = self.ensure_user("admin", "DEMO_ADMIN_PASSWORD", superuser=True)
            agent_password = self.ensure_user("agent", "DEMO_AGENT_PASSWORD", superuser=False)
            workstream = self.ensure_workstream()
            self.ensure_widget(workstream, base_url.rstrip("/"))
            Contact.objects.get_or_create(
                id=DEMO_CONTACT_ID,
                defaults={"full_name": "Dana Demo", "email": "dana@example.com"},
            )
        self.report(base_url.rstrip("/"), admin_password, agent_password)

    def ensure_user(self, username: str, password_variable: str, *, superuser: bool) -> str | None:
        """Create the user once; return the password only when it was just set."""
        users = get_user_model().objects
        if users.filter(username=username).exists():
            return None
        password = os.environ.get(password_variable) or secrets.token_urlsafe(12)
        if superuser:
            users.create_superuser(username, f"{username}@example.com", password)
        else:
            user = users.create_user(username, f"{username}@example.com", password)
            user.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
        return password

    def ensure_workstream(self) -> Workstream:
        workstream, _ = Workstream.objects.get_or_create(
            name="Web chat", defaults={"channel_type": ChannelType.LIVE_CHAT}
        )
        for name, kind, shown in (
            ("msdyn_cartvalue", ContextVariable.Type.NUMBER, True),
            ("msdyn_isvip", ContextVariable.Type.BOOLEAN, True),
            ("portalcontactid", ContextVariable.Type.TEXT, False),
        ):
            ContextVariable.objects.get_or_create(
                workstream=workstream, name=name, defaults={"type": kind, "display_to_agent": shown}
            )
        queues = {
            name: Queue.objects.get_or_create(workstream=workstream, name=name)[0]
            for name in ("Anonymous customers", "Authenticated customers", "VIP customers")
        }
        agent = get_user_model().objects.get(username="agent")
        for queue in queues.values():
            queue.agents.add(agent)
        if workstream.default_queue_id is None:
            workstream.default_queue = queues["Anonymous customers"]
            workstream.save(update_fields=["default_queue"])
        for order, (name, conditions, queue, priority) in enumerate(
            (
                (
                    "VIP customers first",
                    [{"variable": "msdyn_isvip", "operator": "eq", "value": True}],
                    "VIP customers",
                    10,
                ),
                (
                    "Large carts",
                    [
                        {"variable": "authenticated", "operator": "eq", "value": True},
                        {"variable": "msdyn_cartvalue", "operator": "ge", "value": 1000},
                    ],
                    "Authenticated customers",
                    5,
                ),
                (
                    "Signed-in customers",
                    [{"variable": "authenticated", "operator": "eq", "value": True}],
                    "Authenticated customers",
                    1,
                ),
            ),
            start=1,
        ):
            RoutingRule.objects.get_or_create(
                workstream=workstream,
                name=name,
                defaults={
                    "order": order * 10,
                    "conditions": conditions,
                    "queue": queues[queue],
                    "priority": priority,
                },
            )
        return workstream

    def ensure_widget(self, workstream: Workstream, base_url: str) -> None:
        setting, _ = AuthenticationSetting.objects.get_or_create(
            name="Sample portal",
            defaults={
                "owner": get_user_model().objects.get(username="admin"),
                "channel_type": ChannelType.LIVE_CHAT,
                "authentication_type": AuthenticationSetting.Type.OAUTH2_IMPLICIT,
                "public_key_url": f"{base_url}/portal/auth/publickey",
                "javascript_client_function": "auth.getAuthenticationToken",
            },
        )
        widget, _ = ChannelInstance.objects.get_or_create(
            name="Portal chat",
            defaults={
                "kind": ChannelInstance.Kind.CHAT_WIDGET,
                "workstream": workstream,
                "authentication_setting": setting,
                "require_authentication": True,
            },
        )
        Deployment.objects.get_or_create(
            name="Sample portal",
            defaults={"channel_instance": widget, "allowed_domains": ["127.0.0.1", "localhost"]},
        )

    def report(self, base_url: str, admin_password: str | None, agent_password: str | None):
        self.stdout.write(f"Admin:         {base_url}/admin/")
        for username, password in (("admin", admin_password), ("agent", agent_password)):
            if password:
                self.stdout.write(f"  {username:<6} password: {password}  (shown only this once)")
            else:
                self.stdout.write(f"  {username:<6} exists; its password is unchanged.")
