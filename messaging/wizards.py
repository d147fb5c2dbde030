"""Channel set-up wizards: "Set up chat" (workstream → chat widget →
behaviours → deployment → summary, then the snippet) and "Set up Apple Messages for Business"
(workstream → account details → behaviours → summary)."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from authsettings.models import AuthenticationSetting
from contactcenter.adminsite.wizards import (
    AddRelatedWrapper,
    AdminWizardView,
    ModelStepForm,
    SummaryForm,
)
from contactcenter.models import ChannelType
from messaging.forms import allowed_domains_field
from messaging.models import ChannelInstance, Deployment
from workstreams.models import Queue, Workstream

NEW_WORKSTREAM_PERMISSIONS = ("workstreams.add_workstream", "workstreams.add_queue")


class WorkstreamStepForm(forms.Form):
    """Choose a workstream of the channel type, or name a new one and its default queue."""

    title = "Workstream"
    channel_type: ClassVar[str]

    workstream = forms.ModelChoiceField(
        queryset=Workstream.objects.none(),
        required=False,
        label="Existing workstream",
        help_text="Or leave empty and create a new workstream below.",
    )
    new_workstream_name = forms.CharField(
        required=False,
        max_length=200,
        label="New workstream name",
    )
    default_queue_name = forms.CharField(
        required=False,
        max_length=200,
        initial="General",
        label="Default queue name",
        help_text="Where the new workstream's conversations go when no routing rule matches.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["workstream"].queryset = Workstream.objects.filter(
            channel_type=self.channel_type
        )
        label = ChannelType(self.channel_type).label
        self.fields[
            "workstream"
        ].help_text = f"A {label} workstream; or leave empty and create a new one below."

    def clean(self):
        cleaned = super().clean()
        existing = cleaned.get("workstream")
        name = cleaned.get("new_workstream_name")  # stripped by the field
        if existing and name:
            raise ValidationError("Choose an existing workstream or name a new one, not both.")
        if existing or self.errors:
            return cleaned
        if not name:
            self.add_error("new_workstream_name", "Name the new workstream, or choose one above.")
            return cleaned
        if not self.user.has_perms(NEW_WORKSTREAM_PERMISSIONS):
            raise ValidationError(
                "Creating a workstream needs the permissions to add workstreams and queues; "
                "choose an existing one."
            )
        if not cleaned.get("default_queue_name"):
            self.add_error("default_queue_name", "Name the new workstream's default queue.")
        return cleaned

    def create_or_get(self) -> tuple[Workstream, list[Workstream | Queue]]:
        """The chosen workstream, or a new one with its default queue; and what was added."""
        if self.cleaned_data["workstream"]:
            return self.cleaned_data["workstream"], []
        workstream = Workstream.objects.create(
            name=self.cleaned_data["new_workstream_name"], channel_type=self.channel_type
        )
        workstream.default_queue = Queue.objects.create(
            name=self.cleaned_data["default_queue_name"], workstream=workstream
        )
        workstream.save(update_fields=["default_queue"])
        return workstream, [workstream, workstream.default_queue]


class ChatWorkstreamForm(WorkstreamStepForm):
    channel_type = ChannelType.LIVE_CHAT


class AppleWorkstreamForm(WorkstreamStepForm):
    channel_type = ChannelType.APPLE_MESSAGES_FOR_BUSINESS


class ChatWidgetForm(ModelStepForm):
    title = "Chat widget"

    class Meta:
        model = ChannelInstance
        fields = ["name"]
        labels = {"name": "Chat widget name"}


class AccountDetailsForm(ModelStepForm):
    title = "Account details"

    class Meta:
        model = ChannelInstance
        fields = ["business_id", "name"]
        labels = {"name": "Account name"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_id"].required = True


class BehavioursForm(ModelStepForm):
    """The channel's authentication, limited to settings of its channel type."""

    title = "Behaviours"
    channel_type: ClassVar[str]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["authentication_setting"]
        field.queryset = AuthenticationSetting.objects.filter(channel_type=self.channel_type)
        field.widget = AddRelatedWrapper(
            field.widget,
            ChannelInstance._meta.get_field("authentication_setting"),
            user,
            preset={"channel_type": self.channel_type},
        )
        label = ChannelType(self.channel_type).label
        field.help_text = f"Only {label} settings are listed; + adds one."


class ChatBehavioursForm(BehavioursForm):
    channel_type = ChannelType.LIVE_CHAT

    class Meta:
        model = ChannelInstance
        fields = [
            "authentication_setting",
            "require_authentication",
            "allow_session_upgrade",
            "persistent_conversations",
            "on_logout",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only code flows sign out: a step left without an answer keeps conversations.
        self.fields["on_logout"].required = False

    def clean_on_logout(self) -> str:
        return self.cleaned_data["on_logout"] or ChannelInstance.OnLogout.KEEP


class AppleBehavioursForm(BehavioursForm):
    channel_type = ChannelType.APPLE_MESSAGES_FOR_BUSINESS

    authentication = forms.BooleanField(
        required=False,
        label="Authentication",
        help_text="Customers may be asked to sign in through an authentication rich message.",
    )

    class Meta:
        model = ChannelInstance
        fields = ["authentication", "authentication_setting"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Apple conversations start before the customer signs in: authentication is offered
        # (by a rich message), never required to start.
        self.instance.require_authentication = False

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("authentication"):
            cleaned["authentication_setting"] = None
        elif not cleaned.get("authentication_setting") and "authentication_setting" not in (
            self.errors
        ):
            self.add_error(
                "authentication_setting",
                "Choose an Apple Messages for Business authentication setting, or turn "
                "authentication off.",
            )
        return cleaned


class DeploymentStepForm(ModelStepForm):
    title = "Deployment"

    allowed_domains = allowed_domains_field()

    class Meta:
        model = Deployment
        fields = ["name", "allowed_domains", "allow_all_domains", "allow_mobile_apps"]
        labels = {"name": "Deployment name"}


class ChannelSetupWizard(AdminWizardView):
    """What the two set-up wizards share: a workstream step and a channel instance built
    over the following steps."""

    kind: ClassVar[str]
    instance_steps: ClassVar[tuple[str, ...]]

    def get_form_kwargs(self, step=None):
        kwargs = super().get_form_kwargs(step)
        if step in ("workstream", "behaviours"):
            kwargs["user"] = self.request.user
        return kwargs

    def earlier_values(self, step: str) -> dict[str, Any]:
        if step not in self.instance_steps:
            return {}
        return self.instance_values(self.instance_steps[: self.instance_steps.index(step)])

    def instance_values(self, steps) -> dict[str, Any]:
        """The channel instance's fields given on `steps`."""
        values: dict[str, Any] = {
            "kind": self.kind,
            "workstream": self.cleaned("workstream").get("workstream"),
        }
        for step in steps:
            values.update(self.cleaned(step))
        values.pop("authentication", None)  # Apple's on/off: a setting chosen, or none
        return values

    def summary_rows(self):
        workstream = self.cleaned("workstream")
        if workstream.get("workstream"):
            workstream_rows = [("Workstream", str(workstream["workstream"]))]
        else:
            workstream_rows = [
                ("New workstream", workstream.get("new_workstream_name", "")),
                ("Default queue", workstream.get("default_queue_name", "")),
            ]
        rows = [("Workstream", workstream_rows)]
        for step, form_class in self.get_form_list().items():
            if step != "workstream" and form_class is not SummaryForm:
                rows.append((form_class.title, self.rows_of(step)))
        return rows

    def create(self, form_dict) -> ChannelInstance:
        """The channel instance, its new workstream if one was named, and what
        `create_related()` adds, in one transaction."""
        with transaction.atomic():
            values = self.instance_values(self.instance_steps)
            values["workstream"], added = form_dict["workstream"].create_or_get()
            self.added.extend(added)
            channel_instance = ChannelInstance(**values)
            if self.kind == ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS:
                channel_instance.require_authentication = False  # see AppleBehavioursForm
            channel_instance.full_clean()
            channel_instance.save()
            self.create_related(channel_instance)
        return channel_instance

    def create_related(self, channel_instance: ChannelInstance) -> None:
        """What comes with the channel instance, in the same transaction: nothing here; the
        chat wizard adds its deployment."""


class ChatSetupWizard(ChannelSetupWizard):
    title = "Set up chat"
    kind = ChannelInstance.Kind.CHAT_WIDGET
    instance_steps = ("widget", "behaviours")
    required_permissions = ("messaging.add_deployment",)
    form_list: ClassVar = [
        ("workstream", ChatWorkstreamForm),
        ("widget", ChatWidgetForm),
        ("behaviours", ChatBehavioursForm),
        ("deployment", DeploymentStepForm),
        ("summary", SummaryForm),
    ]

    def create_related(self, channel_instance: ChannelInstance) -> None:
        deployment = Deployment(channel_instance=channel_instance, **self.cleaned("deployment"))
        deployment.full_clean()
        deployment.save()
        self.deployment = deployment
        self.added.append(deployment)

    def finish(self, record: ChannelInstance):
        self.model_admin.message_user(
            self.request,
            f'The chat widget "{record}" and its deployment "{self.deployment}" were added. '
            "Paste the snippet into your pages.",
        )
        return HttpResponseRedirect(
            reverse("admin:messaging_deployment_snippet", args=[self.deployment.pk])
        )


class AppleSetupWizard(ChannelSetupWizard):
    title = "Set up Apple Messages for Business"
    kind = ChannelInstance.Kind.APPLE_MESSAGES_FOR_BUSINESS
    instance_steps = ("account", "behaviours")
    form_list: ClassVar = [
        ("workstream", AppleWorkstreamForm),
        ("account", AccountDetailsForm),
        ("behaviours", AppleBehavioursForm),
        ("summary", SummaryForm),
    ]
