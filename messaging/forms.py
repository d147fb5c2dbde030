"""Admin forms for messaging records."""

from __future__ import annotations

from django import forms

from messaging.models import Deployment


class LinesField(forms.CharField):
    """A list of strings edited as one entry per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]


def allowed_domains_field() -> LinesField:
    return LinesField(
        required=False,
        help_text="One host name per line, e.g. www.example.com; add a port for any other "
        "than 80 and 443, e.g. localhost:3000. Leave empty only with allow all domains, or to "
        "run the widget on this platform's own pages.",
    )


class DeploymentForm(forms.ModelForm):
    allowed_domains = allowed_domains_field()

    class Meta:
        model = Deployment
        fields = [
            "name",
            "channel_instance",
            "allowed_domains",
            "allow_all_domains",
            "allow_mobile_apps",
            "status",
        ]
