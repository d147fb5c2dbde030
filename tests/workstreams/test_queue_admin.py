"""A queue's agents are chosen in the admin among the members of the Agents group only."""

from __future__ import annotations

import pytest

from workstreams.models import Queue

pytestmark = pytest.mark.django_db


def test_the_queue_form_offers_only_agents(client, alice, bob, charlie, workstream):
    charlie.groups.add(*bob.groups.all())  # in the group, but not staff: no console for him
    client.force_login(alice)

    response = client.get("/admin/workstreams/queue/add/")

    choices = {
        user.username for user in response.context["adminform"].form.fields["agents"].queryset
    }
    assert choices == {"bob"}


def test_a_queue_cannot_be_given_someone_who_is_not_an_agent(
    client, alice, bob, charlie, workstream
):
    client.force_login(alice)

    response = client.post(
        "/admin/workstreams/queue/add/",
        {"name": "Escalations", "workstream": workstream.pk, "agents": [bob.pk, charlie.pk]},
    )

    assert response.status_code == 200
    assert "agents" in response.context["adminform"].form.errors
    assert not Queue.objects.filter(name="Escalations").exists()


def test_a_queue_is_given_its_agents(client, alice, bob, workstream):
    client.force_login(alice)

    response = client.post(
        "/admin/workstreams/queue/add/",
        {"name": "Escalations", "workstream": workstream.pk, "agents": [bob.pk]},
    )

    assert response.status_code == 302
    assert list(Queue.objects.get(name="Escalations").agents.all()) == [bob]
