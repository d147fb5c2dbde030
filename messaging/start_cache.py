"""What a chat start reads, kept in each process: the widget (with its workstream's variables
and its setting), its deployments, and each workstream's routing rules and queues; and what a
conversation's summary shows besides the conversation and its contact: its channel instance
(of any kind) and its queue.

Every copy is valid for one version, a value in the shared cache (Redis when REDIS_URL is set,
so every process sees it). Saving or deleting any record a start reads sets a new version, at
once and again when the transaction commits, and every process reloads on its next start: a
change is seen by the next start anywhere. A start then reads the version from the shared
cache once (with its widget, whose reads hold its workstream's routing) and the database not
at all for these records.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch
from django.db.models.signals import m2m_changed, post_delete, post_save

from contactcenter.lib.shared_cache import cache
from messaging import origins
from workstreams.routing import Rule

VERSION_KEY = "start-cache:version"


@dataclass(frozen=True)
class Routing:
    """A workstream's routing rules in order, its default queue and its queues by id."""

    rules: list[Rule]
    default_queue_id: int | None
    variable_types: dict[str, str]
    queues: dict[int, object]


@dataclass(frozen=True)
class WidgetReads:
    """A chat widget as a start reads it, with its workstream's routing as of the same version.
    The model instances are shared by every start of the process: read them, never change
    them."""

    widget: object  # ChannelInstance, its workstream (variables prefetched) and setting loaded
    deployments: list[origins.DeploymentDomains]
    deployment_rows: dict[str, object]  # Deployment by its public id
    routing: Routing


_lock = threading.Lock()
_version: str | None = None
_widgets: dict[str, WidgetReads] = {}
_routings: dict[int, Routing] = {}
_channel_instances: dict[int, object] = {}
_queues: dict[int, object] = {}


def current_version() -> str:
    """The version in the shared cache, set when there is none yet."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _valid_for(version: str) -> None:
    """Forget this process's copies when the version moved on."""
    global _version
    if version != _version:
        with _lock:
            if version != _version:
                for kept in (_widgets, _routings, _channel_instances, _queues):
                    kept.clear()
                _version = version


def kept_widget(widget_id) -> WidgetReads | None:
    """The chat widget with this public id as this process keeps it for the current version;
    None when it does not (then `widget` reads it). Reads no database: safe on any thread."""
    _valid_for(current_version())
    return _widgets.get(str(widget_id))


def widget(widget_id) -> WidgetReads | None:
    """The chat widget with this public id as a start reads it; None for an unknown id (which
    is not kept)."""
    version = current_version()
    _valid_for(version)
    key = str(widget_id)
    return _kept(_widgets, key, version, lambda: _load_widget(key, version))


def routing(workstream_id: int) -> Routing:
    """The workstream's rules, variables and queues as a start routes with them."""
    version = current_version()
    _valid_for(version)
    return _routing(workstream_id, version)


def with_kept_relations(conversation):
    """The conversation (a Conversation, its contact loaded) with the channel instance and
    queue its summary shows, as this process keeps them: the instance's workstream with its
    variables, its setting with its rich messages. They are shared: read them, never change
    them."""
    version = current_version()
    _valid_for(version)
    instance_id, queue_id = conversation.channel_instance_id, conversation.queue_id
    conversation.channel_instance = _kept(
        _channel_instances, instance_id, version, lambda: _load_channel_instance(instance_id)
    )
    conversation.queue = _kept(_queues, queue_id, version, lambda: _load_queue(queue_id))
    return conversation


def _routing(workstream_id: int, version: str) -> Routing:
    return _kept(_routings, workstream_id, version, lambda: _load_routing(workstream_id))


def _kept(kept: dict, key, version: str, load: Callable[[], object | None]):
    """`kept[key]`, loaded with `load()` and kept if the version is still current when it
    does; None when `load()` gives None (which is not kept)."""
    found = kept.get(key)
    if found is None:
        found = load()
        if found is None:
            return None
        with _lock:
            if _version == version:
                kept[key] = found
    return found


def _load_widget(widget_id: str, version: str) -> WidgetReads | None:
    from messaging.models import ChannelInstance

    found = (
        _instances_with_relations()
        .prefetch_related("deployments")
        .filter(widget_id=widget_id, kind=ChannelInstance.Kind.CHAT_WIDGET)
        .first()
    )
    if found is None:
        return None
    return WidgetReads(
        widget=found,
        deployments=origins.deployment_domains(found),
        deployment_rows={str(d.deployment_id): d for d in found.deployments.all()},
        routing=_routing(found.workstream_id, version),
    )


def _load_channel_instance(instance_id: int):
    return _instances_with_relations().get(pk=instance_id)


def _instances_with_relations():
    """Channel instances with their workstream's variables and their setting's rich messages."""
    from messaging.models import ChannelInstance

    return ChannelInstance.objects.select_related(
        "workstream", "authentication_setting"
    ).prefetch_related("workstream__context_variables", "authentication_setting__rich_messages")


def _load_queue(queue_id: int):
    from workstreams.models import Queue

    return Queue.objects.get(pk=queue_id)


def _load_routing(workstream_id: int) -> Routing:
    from workstreams.models import Queue, RoutingRule, Workstream

    workstream = Workstream.objects.prefetch_related(
        Prefetch("routing_rules", queryset=RoutingRule.objects.order_by("order", "id")),
        "context_variables",
        Prefetch("queues", queryset=Queue.objects.select_related("workstream")),
    ).get(pk=workstream_id)
    return Routing(
        rules=[
            Rule(rule.name, rule.conditions, rule.queue_id, rule.priority)
            for rule in workstream.routing_rules.all()
        ],
        default_queue_id=workstream.default_queue_id,
        variable_types=workstream.variable_types(),
        queues={queue.pk: queue for queue in workstream.queues.all()},
    )


def bump() -> None:
    """A new version: every process reloads on its next start."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def changed(**kwargs) -> None:
    """A record a start reads changed: a new version now (this transaction's later starts see
    it) and again once it commits (no process keeps what it loaded meanwhile)."""
    bump()
    transaction.on_commit(bump, robust=True)


def connect_receivers() -> None:
    from authsettings.models import AuthenticationSetting
    from messaging.models import ChannelInstance, Deployment, RichMessage
    from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream

    for model in (
        ChannelInstance,
        Deployment,
        Workstream,
        ContextVariable,
        RoutingRule,
        Queue,
        AuthenticationSetting,
        RichMessage,
    ):
        post_save.connect(changed, sender=model, dispatch_uid=f"start-cache-save-{model.__name__}")
        post_delete.connect(
            changed, sender=model, dispatch_uid=f"start-cache-delete-{model.__name__}"
        )
    m2m_changed.connect(
        changed,
        sender=AuthenticationSetting.rich_messages.through,
        dispatch_uid="start-cache-rich-messages",
    )
