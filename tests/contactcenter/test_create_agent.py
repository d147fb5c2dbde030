"""create_agent, as an operator runs it: a staff user in the Agents group, on the queues named."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from messaging.models import AGENTS_GROUP
from workstreams.models import Queue

pytestmark = pytest.mark.django_db

STRONG = "a long and unguessable passphrase 7"


def create_agent(*args: str) -> dict:
    out = io.StringIO()
    call_command("create_agent", *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def can_open_the_console(username: str, password: str) -> bool:
    client = Client()
    if not client.login(username=username, password=password):
        return False
    return client.get("/agent/", secure=True).status_code == 200


def test_a_new_agent_gets_a_generated_password_that_opens_the_console(workstream):
    printed = create_agent("erin", "--queue", str(workstream.default_queue_id))
    assert printed["username"] == "erin"
    assert len(printed["password"]) >= 12
    erin = get_user_model().objects.get(username="erin")
    assert erin.is_staff and erin.is_active
    assert list(erin.groups.values_list("name", flat=True)) == [AGENTS_GROUP]
    assert list(erin.queues.all()) == [workstream.default_queue]
    assert can_open_the_console("erin", printed["password"])


def test_the_password_given_is_the_one_set_and_printed(workstream):
    printed = create_agent("erin", "--password", STRONG)
    assert printed == {"username": "erin", "password": STRONG}
    assert can_open_the_console("erin", STRONG)


def test_queues_are_named_one_flag_each_or_several_after_one_flag(workstream):
    vip = Queue.objects.create(name="VIP", workstream=workstream)
    general = workstream.default_queue
    create_agent("erin", "--queue", str(general.pk), "--queue", str(vip.pk))
    create_agent("frank", "--queue", str(general.pk), str(vip.pk))
    for username in ("erin", "frank"):
        user = get_user_model().objects.get(username=username)
        assert set(user.queues.all()) == {general, vip}


def test_an_existing_user_becomes_an_agent_and_keeps_their_password(charlie, workstream):
    printed = create_agent("charlie", "--queue", str(workstream.default_queue_id))
    assert printed == {"username": "charlie", "password": None}
    charlie.refresh_from_db()
    assert charlie.is_staff
    assert charlie.groups.filter(name=AGENTS_GROUP).exists()
    assert charlie.check_password("correct horse battery staple")
    assert list(charlie.queues.all()) == [workstream.default_queue]


def test_an_existing_agent_keeps_their_queues_and_gains_the_ones_named(bob, workstream):
    vip = Queue.objects.create(name="VIP", workstream=workstream)
    bob.queues.add(workstream.default_queue)
    printed = create_agent("bob", "--password", STRONG, "--queue", str(vip.pk))
    assert printed == {"username": "bob", "password": STRONG}
    assert set(bob.queues.all()) == {workstream.default_queue, vip}
    assert bob.groups.filter(name=AGENTS_GROUP).count() == 1
    assert can_open_the_console("bob", STRONG)


def test_an_unknown_queue_is_refused_and_nothing_is_changed(workstream):
    with pytest.raises(CommandError, match="No queue has the id 999"):
        create_agent("erin", "--queue", str(workstream.default_queue_id), "--queue", "999")
    assert not get_user_model().objects.filter(username="erin").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--queue", "general"], "invalid int value"),
        (["--password", "short"], "too short"),
    ],
)
def test_a_bad_argument_is_refused_with_a_clear_error_and_nothing_is_made(args, message):
    with pytest.raises(CommandError, match=message):
        create_agent("erin", *args)
    assert not get_user_model().objects.filter(username="erin").exists()


@pytest.mark.parametrize("username", ["", "no spaces allowed", "x" * 151])
def test_a_username_django_would_refuse_is_refused(username):
    with pytest.raises(CommandError, match="username"):
        create_agent(username)
    assert not get_user_model().objects.exists()
