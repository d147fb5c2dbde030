"""The contact center's admin site: branded, its index ordered by the administrator's tasks.

Every app's `admin.register` lands here: `ContactCenterAdminConfig` (in INSTALLED_APPS in place
of django.contrib.admin) makes it the default site.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import reverse


@dataclass(frozen=True)
class Task:
    """A link beside a record's name on the index: a wizard that makes that kind of record.
    `permission` is what the user needs besides adding the record."""

    label: str
    url_name: str
    permission: str = ""


@dataclass(frozen=True)
class Section:
    name: str
    models: tuple[str, ...]
    tasks: dict[str, tuple[Task, ...]] | None = None


# The administrator's work in the order it is done: how customers sign in, where they chat,
# how conversations are routed, who the customers are, who may do what. The identity
# provider's own records come last, in one section.
SECTIONS: tuple[Section, ...] = (
    Section("Customer settings", ("authsettings.AuthenticationSetting",)),
    Section(
        "Channels",
        ("messaging.ChannelInstance", "messaging.Deployment", "messaging.RichMessage"),
        tasks={
            "messaging.ChannelInstance": (
                Task("Set up chat", "messaging_channelinstance_setup_chat", "add_deployment"),
                Task("Set up Apple Messages for Business", "messaging_channelinstance_setup_apple"),
            )
        },
    ),
    Section(
        "Workstreams",
        (
            "workstreams.Workstream",
            "workstreams.Queue",
            "workstreams.RoutingRule",
            "workstreams.ContextVariable",
        ),
    ),
    Section("Customers", ("messaging.Contact", "messaging.Conversation")),
    Section(
        "Access",
        (
            "auth.User",
            "auth.Group",
            "contactcenter.ApiClient",
            "axes.AccessAttempt",
            "axes.AccessFailureLog",
            "axes.AccessLog",
        ),
    ),
)
IDENTITY_PROVIDER = Section(
    "Identity provider",
    (
        "oauth2_provider.Application",
        "oauth2_provider.AccessToken",
        "oauth2_provider.RefreshToken",
        "oauth2_provider.IDToken",
        "oauth2_provider.Grant",
    ),
)


class ContactCenterAdminSite(admin.AdminSite):
    site_header = "Contact center admin"
    site_title = "Contact center admin"
    index_title = "Configure the contact center"

    def get_app_list(self, request, app_label=None):
        """The index's sections, in SECTIONS' order; an app's own page (`app_label`) lists its
        models as Django does. A model no section names gets its app's section before the
        identity provider's, so nothing registered is left out."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        models = {
            model["model"]._meta.label: (app, model)
            for app in self._build_app_dict(request).values()
            for model in app["models"]
        }
        placed = {label for section in (*SECTIONS, IDENTITY_PROVIDER) for label in section.models}
        others = {}
        for label, (app, _model) in models.items():
            if label not in placed:
                others.setdefault(app["app_label"], (app, []))[1].append(label)
        sections = [
            *SECTIONS,
            *(
                Section(app["name"], tuple(sorted(labels)))
                for app, labels in sorted(others.values(), key=lambda pair: pair[0]["name"])
            ),
            IDENTITY_PROVIDER,
        ]
        app_list = []
        for section in sections:
            rows = [
                {**models[label][1], "tasks": self.tasks(request, section, label)}
                for label in section.models
                if label in models
            ]
            if rows:
                app_list.append(
                    {
                        "name": section.name,
                        "app_label": section.name.lower().replace(" ", "-"),
                        "app_url": "",
                        "has_module_perms": True,
                        "models": rows,
                    }
                )
        return app_list

    def tasks(self, request, section: Section, label: str) -> list[dict[str, str]]:
        """The wizards beside a record's name that the user may run."""
        app_label, model_name = label.lower().split(".")
        if not request.user.has_perm(f"{app_label}.add_{model_name}"):
            return []
        links = []
        for task in (section.tasks or {}).get(label, ()):
            if task.permission and not request.user.has_perm(f"{app_label}.{task.permission}"):
                continue
            url = reverse(f"{self.name}:{task.url_name}", current_app=self.name)
            links.append({"label": task.label, "url": url})
        return links


class ContactCenterAdminConfig(AdminConfig):
    default_site = "contactcenter.adminsite.site.ContactCenterAdminSite"
