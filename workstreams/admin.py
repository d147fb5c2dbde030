from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from messaging.models import agent_users
from workstreams.models import ContextVariable, Queue, RoutingRule, Workstream


class ContextVariableFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
        ]
        if len(kept) > Workstream.MAX_VARIABLES:
            raise ValidationError(
                f"A workstream has at most {Workstream.MAX_VARIABLES} context variables."
            )


class ContextVariableInline(admin.TabularInline):
    model = ContextVariable
    formset = ContextVariableFormSet
    extra = 1
    fields = ["name", "type", "display_to_agent"]


class QueueInline(admin.TabularInline):
    model = Queue
    extra = 1
    fields = ["name", "agents"]
    autocomplete_fields = ["agents"]


@admin.register(Workstream)
class WorkstreamAdmin(admin.ModelAdmin):
    list_display = ["name", "channel_type", "default_queue", "modified_at"]
    list_filter = ["channel_type"]
    list_select_related = ["default_queue__workstream"]
    search_fields = ["name"]
    inlines = [ContextVariableInline, QueueInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "default_queue":
            workstream_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = Queue.objects.filter(workstream_id=workstream_id)
            kwargs["help_text"] = (
                "Where conversations go when no routing rule matches. "
                "Add queues below and save first."
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "workstream"]
    list_filter = ["workstream"]
    list_select_related = ["workstream"]
    search_fields = ["name", "workstream__name"]
    autocomplete_fields = ["workstream"]
    filter_horizontal = ["agents"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "agents":
            kwargs["queryset"] = agent_users()
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(ContextVariable)
class ContextVariableAdmin(admin.ModelAdmin):
    list_display = ["name", "workstream", "type", "display_to_agent"]
    list_filter = ["type", "display_to_agent", "workstream"]
    list_select_related = ["workstream"]
    search_fields = ["name", "workstream__name"]
    autocomplete_fields = ["workstream"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "workstream", "order", "queue", "priority"]
    list_filter = ["workstream"]
    list_select_related = ["workstream", "queue__workstream"]
    search_fields = ["name", "workstream__name", "queue__name"]
    autocomplete_fields = ["workstream", "queue"]
    ordering = ["workstream__name", "order"]
