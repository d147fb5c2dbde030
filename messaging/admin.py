from __future__ import annotations

from django.contrib import admin

from contactcenter.adminsite.history import HistoryAdmin
from contactcenter.adminsite.record_pages import admin_path, record_page
from messaging.domains import platform_url
from messaging.forms import DeploymentForm
from messaging.models import (
    ChannelInstance,
    Contact,
    Conversation,
    Deployment,
    Message,
    RichMessage,
)
from messaging.wizards import AppleSetupWizard, ChatSetupWizard


def snippet_context(deployment: Deployment, request) -> dict:
    """What the deployment's pages show to paste: the snippet and the mobile SDK values."""
    base = platform_url(request)
    return {"snippet": deployment.snippet(base), "mobile": deployment.mobile(base)}


@admin.register(RichMessage)
class RichMessageAdmin(admin.ModelAdmin):
    list_display = ["name", "channel_type", "type", "modified_at"]
    list_filter = ["channel_type", "type"]
    search_fields = ["name"]


class DeploymentInline(admin.TabularInline):
    model = Deployment
    form = DeploymentForm
    extra = 0
    fields = ["name", "allowed_domains", "allow_all_domains", "allow_mobile_apps", "status"]
    show_change_link = True


@admin.register(ChannelInstance)
class ChannelInstanceAdmin(HistoryAdmin):
    list_display = [
        "name",
        "kind",
        "workstream",
        "authentication_setting",
        "require_authentication",
        "widget_id",
    ]
    list_filter = ["kind", "require_authentication", "allow_session_upgrade"]
    list_select_related = ["workstream", "authentication_setting"]
    search_fields = ["name", "workstream__name", "widget_id"]
    autocomplete_fields = ["workstream", "authentication_setting"]
    readonly_fields = ["widget_id", "created_at", "modified_at"]
    change_list_template = "admin/messaging/channelinstance/change_list.html"
    # Titled like the set-up wizards' steps.
    fieldsets = [
        ("Workstream", {"fields": ["workstream"]}),
        ("Chat widget", {"fields": ["name", "kind", "widget_id"]}),
        (
            "Behaviours",
            {
                "fields": [
                    "authentication_setting",
                    "require_authentication",
                    "allow_session_upgrade",
                    "persistent_conversations",
                    "on_logout",
                ]
            },
        ),
        ("History", {"fields": ["created_at", "modified_at"]}),
    ]
    apple_fieldsets = [
        ("Workstream", {"fields": ["workstream"]}),
        ("Account details", {"fields": ["business_id", "name", "kind"]}),
        ("Behaviours", {"fields": ["authentication_setting", "require_authentication"]}),
        ("History", {"fields": ["created_at", "modified_at"]}),
    ]
    inlines = [DeploymentInline]

    def get_fieldsets(self, request, obj=None):
        if obj is not None and obj.kind == ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS:
            return self.apple_fieldsets
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        if obj is not None and obj.kind != ChannelInstance.Kind.CHAT_WIDGET:
            return []
        return super().get_inlines(request, obj)

    def get_urls(self):
        return [
            admin_path(self, "setup-chat/", self.setup_chat_view, "setup_chat"),
            admin_path(self, "setup-apple/", self.setup_apple_view, "setup_apple"),
            *super().get_urls(),
        ]

    def setup_chat_view(self, request):
        return ChatSetupWizard.as_view(model_admin=self)(request)

    def setup_apple_view(self, request):
        return AppleSetupWizard.as_view(model_admin=self)(request)


@admin.register(Deployment)
class DeploymentAdmin(HistoryAdmin):
    form = DeploymentForm
    list_display = [
        "name",
        "channel_instance",
        "status",
        "allow_all_domains",
        "allow_mobile_apps",
        "deployment_id",
    ]
    list_filter = ["status", "allow_all_domains", "allow_mobile_apps"]
    list_select_related = ["channel_instance"]
    search_fields = ["name", "channel_instance__name", "deployment_id"]
    autocomplete_fields = ["channel_instance"]
    readonly_fields = ["deployment_id", "created_at", "modified_at"]
    change_form_template = "admin/messaging/deployment/change_form.html"

    def get_urls(self):
        return [
            admin_path(self, "<path:object_id>/snippet/", self.snippet_view, "snippet"),
            *super().get_urls(),
        ]

    def snippet_view(self, request, object_id):
        """The "Set up chat" wizard's last page: what to paste where."""
        return record_page(
            self,
            request,
            object_id,
            "admin/messaging/deployment/snippet.html",
            lambda deployment: {
                "title": f"Chat is ready: {deployment}",
                **snippet_context(deployment, request),
            },
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(snippet_context(obj, request))
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["full_name", "email", "status", "id"]
    list_filter = ["status"]
    search_fields = ["full_name", "email", "=id"]


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["sent_at", "sender", "author", "text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "channel_instance",
        "status",
        "is_authenticated",
        "contact",
        "queue",
        "priority",
        "created_at",
    ]
    list_filter = ["status", "authenticated", "channel_instance", "queue"]
    list_select_related = ["channel_instance", "contact", "queue__workstream"]
    search_fields = ["=id", "subject", "contact__full_name", "contact__email"]
    date_hierarchy = "created_at"
    inlines = [MessageInline]

    @admin.display(boolean=True, description="Authenticated")
    def is_authenticated(self, obj: Conversation) -> bool:
        return obj.authenticated_now

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
