"""The admin opens on the contact center's own index, ordered by the administrator's tasks."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission

from contactcenter.adminsite.site import ContactCenterAdminSite

pytestmark = pytest.mark.django_db

SECTIONS = [
    "Customer settings",
    "Channels",
    "Workstreams",
    "Customers",
    "Access",
    "Identity provider",
]


def sections_of(html: str) -> list[str]:
    return re.findall(r'<span class="section">([^<]+)</span>', html)


def test_every_app_registers_on_the_contact_center_site():
    site = apps.get_app_config("admin").default_site
    assert site == "contactcenter.adminsite.site.ContactCenterAdminSite"
    assert isinstance(admin.site._wrapped, ContactCenterAdminSite)
    labels = {model._meta.label for model in admin.site._registry}
    assert {"authsettings.AuthenticationSetting", "oauth2_provider.AccessToken"} <= labels


def test_the_index_follows_the_administrators_tasks(client, alice):
    client.force_login(alice)
    page = client.get("/admin/")
    html = page.content.decode()
    assert "Contact center admin" in html
    assert "Django administration" not in html
    assert sections_of(html)[: len(SECTIONS)] == SECTIONS
    assert sections_of(html)[-1] == "Identity provider"
    names = [[model["name"] for model in section["models"]] for section in page.context["app_list"]]
    assert names[0] == ["Authentication settings"]
    assert names[1] == ["Channel instances", "Deployments", "Rich messages"]
    assert names[2] == ["Workstreams", "Queues", "Routing rules", "Context variables"]
    assert names[3] == ["Contacts", "Conversations"]
    assert names[4][:3] == ["Users", "Groups", "API clients"]
    assert set(names[-1]) == {
        "Applications",
        "Access tokens",
        "Refresh tokens",
        "Id tokens",
        "Grants",
    }


def test_the_channels_section_offers_the_set_up_wizards(client, alice):
    client.force_login(alice)
    html = client.get("/admin/").content.decode()
    for label in ("Set up chat", "Set up Apple Messages for Business"):
        link = re.search(rf'<a href="([^"]+)" class="task-link">{label}</a>', html)
        assert link, label
        assert client.get(link.group(1)).status_code == 200


def test_someone_who_may_only_view_sees_neither_wizard_nor_other_sections(client, charlie):
    charlie.is_staff = True
    charlie.save()
    charlie.user_permissions.add(Permission.objects.get(codename="view_channelinstance"))
    client.force_login(charlie)
    html = client.get("/admin/").content.decode()
    assert sections_of(html) == ["Channels"]
    assert "task-link" not in html


def test_an_apps_own_page_still_lists_its_models(client, alice):
    client.force_login(alice)
    page = client.get("/admin/messaging/")
    assert page.status_code == 200
    assert [app["app_label"] for app in page.context["app_list"]] == ["messaging"]
