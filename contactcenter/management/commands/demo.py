"""Load the demo: an admin, an agent, a portal customer, a workstream routed by context, an
authenticated chat widget wired to the sample portal, and an Apple Messages for Business channel
whose customers sign in at the platform's own OpenID Connect provider. Running it again changes
nothing."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse
from oauth2_provider.models import Application

from authsettings.models import AuthenticationSetting
from contactcenter.models import ChannelType
from contactcenter.portal import CUSTOMERS_GROUP, DEPLOYMENT_NAME, keys, tokens
from messaging.models import AGENTS_GROUP, ChannelInstance, Contact, Deployment, RichMessage
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

DEMO_CONTACT_ID = uuid.UUID("87b4d06c-abc2-e811-a9b0-000d3a10e09e")
DEMO_CONTACT_EMAIL = "dana@example.com"
SIGN_IN_CLIENT = "Portal code sign-in"
SIGN_IN_SETTING = "Portal code sign-in"
# The business id Apple would assign the demo business (the destination-id of its messages).
APPLE_BUSINESS_ID = "5c8f4b4e-6a4d-4f4e-9d3a-2b1f0e7c9a11"
APPLE_SETTING_NAME = "Apple sign-in"
APPLE_APPLICATION_NAME = "Apple Messages sign-in"
# A sign-in at the demo's Apple business lasts two minutes, so its lapse is soon seen.
APPLE_EXPIRY_SECONDS = 120


class Command(BaseCommand):
    help = "Apply migrations and load the demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where the platform is served; the sample portal's key URL is under it.",
        )

    def handle(self, *args, base_url: str, **options):
        base_url = base_url.rstrip("/")
        call_command("migrate", interactive=False, verbosity=0)
        keys.current_key()
        with transaction.atomic():
            passwords = {
                "admin": self.ensure_user("admin", superuser=True),
                "agent": self.ensure_user("agent", group=AGENTS_GROUP, is_staff=True),
                "customer": self.ensure_user(
                    "customer",
                    group=CUSTOMERS_GROUP,
                    email=DEMO_CONTACT_EMAIL,
                    first_name="Dana",
                    last_name="Demo",
                ),
            }
            workstream = self.ensure_workstream()
            self.ensure_widget(workstream, base_url)
            app_deployment = self.ensure_sign_in_chat_and_app(workstream, base_url)
            self.ensure_apple_channel(base_url)
            Contact.objects.get_or_create(
                id=DEMO_CONTACT_ID,
                defaults={"full_name": "Dana Demo", "email": DEMO_CONTACT_EMAIL},
            )
        self.report(base_url, passwords)
        self.report_app(app_deployment, base_url)

    def ensure_user(
        self, username: str, *, superuser: bool = False, group: str | None = None, **fields
    ) -> str | None:
        """Create the user once, or give an existing one the roles in `fields`; return the
        password only when it was just set."""
        users = get_user_model().objects
        existing = users.filter(username=username)
        if existing.exists():
            if fields:
                existing.update(**fields)
            return None
        password = os.environ.get(f"DEMO_{username.upper()}_PASSWORD") or secrets.token_urlsafe(12)
        fields.setdefault("email", f"{username}@example.com")
        if superuser:
            user = users.create_superuser(username, password=password, **fields)
        else:
            user = users.create_user(username, password=password, **fields)
        if group:
            user.groups.add(Group.objects.get_or_create(name=group)[0])
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
        # The kid list, not the single PEM, so a rotated portal key is found by kid.
        portal = {
            "public_key_url": base_url + reverse("portal:keys"),
            "expected_issuer": tokens.ISSUER,
        }
        setting, created = AuthenticationSetting.objects.get_or_create(
            name="Sample portal",
            defaults={
                "owner": get_user_model().objects.get(username="admin"),
                "channel_type": ChannelType.LIVE_CHAT,
                "authentication_type": AuthenticationSetting.Type.OAUTH2_IMPLICIT,
                "javascript_client_function": "auth.getAuthenticationToken",
                **portal,
            },
        )
        if not created and any(getattr(setting, name) != value for name, value in portal.items()):
            for name, value in portal.items():
                setattr(setting, name, value)
            setting.save(update_fields=[*portal, "modified_at"])
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
            name=DEPLOYMENT_NAME,
            defaults={"channel_instance": widget, "allowed_domains": ["127.0.0.1", "localhost"]},
        )

    def ensure_sign_in_chat_and_app(self, workstream: Workstream, base_url: str) -> Deployment:
        """A chat that signs customers in with the code flow at the platform's own OpenID
        Connect provider (/o/), as /portal/oidc/ does, keeping their conversation across
        devices; and a deployment of the portal's chat for mobile apps. Returns that one."""
        redirect_uri = base_url + reverse("portal:oidc")
        setting = self.ensure_own_provider_setting(
            SIGN_IN_SETTING,
            application_name=SIGN_IN_CLIENT,
            defaults={
                "channel_type": ChannelType.LIVE_CHAT,
                "authentication_type": AuthenticationSetting.Type.OPENID_CONNECT,
                "scope": "openid",
            },
            provider={
                "discovery_uri": base_url + reverse("oauth2_provider:oidc-connect-discovery-info")
            },
            redirect_uri=lambda setting: redirect_uri,
        )
        widget, _ = ChannelInstance.objects.get_or_create(
            name="Account chat",
            defaults={
                "kind": ChannelInstance.Kind.CHAT_WIDGET,
                "workstream": workstream,
                "authentication_setting": setting,
                "require_authentication": True,
                "persistent_conversations": True,
                "on_logout": ChannelInstance.OnLogout.END,
            },
        )
        Deployment.objects.get_or_create(
            name="Account pages",
            defaults={"channel_instance": widget, "allowed_domains": ["127.0.0.1", "localhost"]},
        )
        app, _ = Deployment.objects.get_or_create(
            name="Mobile app",
            defaults={
                "channel_instance": ChannelInstance.objects.get(name="Portal chat"),
                "allow_mobile_apps": True,
            },
        )
        return app

    def report_app(self, deployment: Deployment, base_url: str) -> None:
        mobile = deployment.mobile(base_url)
        self.stdout.write(f"{'Mobile app:':<15} deployment id {mobile['deployment_id']}")
        self.stdout.write(f"  domain {mobile['domain']} ({base_url})")
        self.stdout.write(f"{'Code sign-in:':<15} {base_url}{reverse('portal:oidc')}")

    def ensure_apple_channel(self, base_url: str) -> None:
        """An Apple workstream whose customers sign in at the platform's own provider (/o/):
        an OAuth application redirecting to the setting's callback, the setting holding its
        client secret (encrypted; the application keeps it hashed), a sign-in rich message, and
        the business's channel instance."""
        workstream, _ = Workstream.objects.get_or_create(
            name="Apple Messages",
            defaults={"channel_type": ChannelType.APPLE_MESSAGES_FOR_BUSINESS},
        )
        queues = {
            name: Queue.objects.get_or_create(workstream=workstream, name=name)[0]
            for name in ("Apple customers", "Signed-in Apple customers")
        }
        agent = get_user_model().objects.get(username="agent")
        for queue in queues.values():
            queue.agents.add(agent)
        if workstream.default_queue_id is None:
            workstream.default_queue = queues["Apple customers"]
            workstream.save(update_fields=["default_queue"])
        RoutingRule.objects.get_or_create(
            workstream=workstream,
            name="Signed-in Apple customers",
            defaults={
                "order": 10,
                "conditions": [{"variable": "authenticated", "operator": "eq", "value": True}],
                "queue": queues["Signed-in Apple customers"],
                "priority": 5,
            },
        )
        sign_in_message, _ = RichMessage.objects.get_or_create(
            name="Sign in to Northwind",
            defaults={
                "type": RichMessage.Type.AUTHENTICATION,
                "content": {
                    "received_message": "Sign in to Northwind Outfitters",
                    "reply_message": "I signed in",
                },
            },
        )
        setting = self.ensure_own_provider_setting(
            APPLE_SETTING_NAME,
            application_name=APPLE_APPLICATION_NAME,
            defaults={
                "channel_type": ChannelType.APPLE_MESSAGES_FOR_BUSINESS,
                "authentication_type": AuthenticationSetting.Type.OAUTH2_OPENID_CONNECT,
                "scope": "openid",
                "access_token_expiry_seconds": APPLE_EXPIRY_SECONDS,
            },
            provider={
                "access_token_url": base_url + reverse("oauth2_provider:token"),
                "decrypted_token_url": base_url + reverse("oauth2_provider:user-info"),
            },
            redirect_uri=lambda setting: setting.redirect_url_at(
                settings.CC_PUBLIC_URL or base_url
            ),
        )
        setting.rich_messages.add(sign_in_message)
        ChannelInstance.objects.get_or_create(
            business_id=APPLE_BUSINESS_ID,
            defaults={
                "name": "Northwind Outfitters",
                "kind": ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS,
                "workstream": workstream,
                "authentication_setting": setting,
                # Customers write first; an agent asks them to sign in when it matters.
                "require_authentication": False,
            },
        )

    def ensure_own_provider_setting(
        self,
        name: str,
        *,
        application_name: str,
        defaults: dict,
        provider: dict,
        redirect_uri: Callable[[AuthenticationSetting], str],
    ) -> AuthenticationSetting:
        """The setting `name` (made with `defaults` when missing) as a confidential client of
        the platform's own provider (/o/): its application, the client secret the two share
        (the setting keeps it encrypted, the application hashed, so a missing half of the
        pair gets a new one), the `provider` URL fields kept current, and the setting's
        redirect URI among the application's."""
        setting = AuthenticationSetting.objects.filter(name=name).first()
        application = (
            Application.objects.filter(client_id=setting.client_id).first() if setting else None
        )
        if setting is None:
            setting = AuthenticationSetting(
                name=name, owner=get_user_model().objects.get(username="admin"), **defaults
            )
        if application is None:
            secret = secrets.token_urlsafe(32)
            application = Application(
                name=application_name,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
                client_secret=secret,
                algorithm=Application.RS256_ALGORITHM,
                skip_authorization=True,
            )
            setting.client_secret = secret
        changed = [field for field, value in provider.items() if getattr(setting, field) != value]
        for field, value in provider.items():
            setattr(setting, field, value)
        if setting.pk is None or application.pk is None or changed:
            setting.client_id = application.client_id
            setting.save()
        # A redirect URI may name the setting's id, known once it is saved.
        uri = redirect_uri(setting)
        if application.pk is None or uri not in application.redirect_uris.split():
            application.redirect_uris = f"{application.redirect_uris} {uri}".strip()
            application.save()
        return setting

    def report(self, base_url: str, passwords: dict[str, str | None]) -> None:
        for label, path, username in (
            ("Admin:", reverse("admin:index"), "admin"),
            ("Agent console:", reverse("agent-console"), "agent"),
            ("Sample portal:", reverse("portal:home"), "customer"),
        ):
            self.stdout.write(f"{label:<15} {base_url}{path}")
            password = passwords[username]
            if password:
                self.stdout.write(f"  {username:<6} password: {password}  (shown only this once)")
            else:
                self.stdout.write(f"  {username:<6} exists; its password is unchanged.")
        self.stdout.write(f"{'Apple Messages:':<15} {base_url}{reverse('portal:apple')}")
        self.stdout.write("  signs in as customer when the agent asks.")
