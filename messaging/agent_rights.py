"""Who may use the agent console, and how a change to that reaches the agent's open sockets.

Every console socket joins its user's channel-layer group. A change that can take rights away
or change queues (deactivation, staff status, a new password, deletion, the Agents group, queue
memberships) tells that group `agent.rights` after it commits, and each socket re-reads its
session and queues; a sign-out tells `agent.signed_out` with a digest of the ended session, and
only that session's sockets close. The group reaches every server process through the channel
layer. A session that ends unseen (it expires or is deleted) is noticed by the socket itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user, get_user_model, user_logged_out
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Exists
from django.db.models.functions import Now
from django.db.models.signals import m2m_changed, post_init, post_save, pre_delete

from messaging.actions import tell
from messaging.models import AGENTS_GROUP, agent_users
from workstreams.models import Queue

# The m2m_changed actions after which a membership is known to have changed; a clear is told
# before it runs, while its members can still be read, and delivered once it commits.
MEMBERSHIP_CHANGES = frozenset({"post_add", "post_remove", "pre_clear"})
# The user's fields that rights depend on; the password because its hash signs the session.
RIGHTS_FIELDS = ("is_active", "is_staff", "password")


def is_agent(user) -> bool:
    """Whether the user may use the agent console (messaging.models.agent_users)."""
    return bool(user and user.is_authenticated) and agent_users().filter(pk=user.pk).exists()


@dataclass(frozen=True)
class AgentSession:
    """An agent as a full check of their session (`session_key`) found them, and the session's
    stored data that check read (None where sessions are not kept in the database)."""

    user: object
    session_key: str | None
    session_data: str | None

    @cached_property
    def standing_query(self) -> tuple[str, tuple]:
        """The SQL and parameters of still_stands' query, built once for the socket's many
        checks (building it costs more than asking it): the session's row still holds the
        same data, unexpired, and the user is still an agent with the same password. Expiry
        is judged by the database's clock (the query's parameters never change), the full
        check's by the server's: the two agree as far as the machines' clocks do."""
        same_session = Session.objects.filter(
            session_key=self.session_key, session_data=self.session_data, expire_date__gt=Now()
        )
        standing = (
            agent_users()
            .filter(pk=self.user.pk, password=self.user.password)
            .filter(Exists(same_session))
            .values("pk")[:1]
        )
        return standing.query.sql_with_params()


DATABASE_SESSIONS = "django.contrib.sessions.backends.db"


def agent_of_session(
    session_key: str | None, known: AgentSession | None = None
) -> AgentSession | None:
    """The agent the session holds now (an AgentSession), or None.

    The full check reads the session afresh from its store (a socket's copy would still hold a
    user who has signed out since), and Django's `get_user` checks the session's auth hash
    against the user's password, so a session from before a password change holds no one (and
    is flushed). Where `known` is an earlier full check's answer, one query tells whether it
    stands: the session's row still holds the same data, unexpired, and the user is still an
    agent with the same password. Only when it does not is the full check made again.
    """
    if known is not None and known.session_key == session_key and still_stands(known):
        return known
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = get_user(SimpleNamespace(session=session))
    if not is_agent(user):
        return None
    return AgentSession(user, session_key, stored_session_data(session_key))


def stored_session_data(session_key: str | None) -> str | None:
    if settings.SESSION_ENGINE != DATABASE_SESSIONS:
        return None
    return (
        Session.objects.filter(session_key=session_key)
        .values_list("session_data", flat=True)
        .first()
    )


def still_stands(known: AgentSession) -> bool:
    if known.session_data is None:  # not kept in the database (stored_session_data)
        return False
    with connection.cursor() as cursor:
        cursor.execute(*known.standing_query)
        return cursor.fetchone() is not None


def agent_group(user_id: int) -> str:
    return f"agent.{user_id}"


def session_digest(session_key: str | None) -> str:
    """Names a session in events without spreading its key."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def tell_rights_changed(user_ids: Iterable[int]) -> None:
    for user_id in set(user_ids):
        tell(agent_group(user_id), {"type": "agent.rights"})


def signed_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        tell(
            agent_group(user.pk),
            {"type": "agent.signed_out", "session": session_digest(session_key)},
        )


def rights_fields(user) -> tuple:
    # Read from __dict__: a deferred field is not fetched just to be remembered.
    return tuple(user.__dict__.get(field) for field in RIGHTS_FIELDS)


def user_loaded(sender, instance, **kwargs) -> None:
    instance._rights_fields_loaded = rights_fields(instance)


def user_saved(sender, instance, created: bool, **kwargs) -> None:
    """Tells the user's sockets when a field rights depend on changed since the user was read:
    a new password ends every session signed with the old one, as Django intends."""
    saved = rights_fields(instance)
    changed = saved != getattr(instance, "_rights_fields_loaded", None)
    instance._rights_fields_loaded = saved
    if not created and (changed or not instance.is_active):
        tell_rights_changed([instance.pk])


def user_deleted(sender, instance, **kwargs) -> None:
    tell_rights_changed([instance.pk])


def group_deleted(sender, instance: Group, **kwargs) -> None:
    if instance.name == AGENTS_GROUP:
        tell_rights_changed(instance.user_set.values_list("pk", flat=True))


def changed_users(instance, action: str, pk_set, members: Callable) -> Iterable[int]:
    """The users whose memberships changed, told from either side: the user, or the users
    added or removed (every member, on a clear)."""
    if isinstance(instance, get_user_model()):
        return [instance.pk]
    if action == "pre_clear":
        return members(instance).values_list("pk", flat=True)
    return pk_set


def groups_changed(sender, instance, action: str, pk_set, **kwargs) -> None:
    if action in MEMBERSHIP_CHANGES:
        tell_rights_changed(changed_users(instance, action, pk_set, lambda group: group.user_set))


def queues_changed(sender, instance, action: str, pk_set, **kwargs) -> None:
    if action in MEMBERSHIP_CHANGES:
        tell_rights_changed(changed_users(instance, action, pk_set, lambda queue: queue.agents))


def connect_receivers() -> None:
    user_model = get_user_model()
    user_logged_out.connect(signed_out, dispatch_uid="agent_rights.signed_out")
    post_init.connect(user_loaded, sender=user_model, dispatch_uid="agent_rights.user_loaded")
    post_save.connect(user_saved, sender=user_model, dispatch_uid="agent_rights.user_saved")
    pre_delete.connect(user_deleted, sender=user_model, dispatch_uid="agent_rights.user_deleted")
    pre_delete.connect(group_deleted, sender=Group, dispatch_uid="agent_rights.group_deleted")
    m2m_changed.connect(
        groups_changed, sender=user_model.groups.through, dispatch_uid="agent_rights.groups"
    )
    m2m_changed.connect(
        queues_changed, sender=Queue.agents.through, dispatch_uid="agent_rights.queues"
    )
