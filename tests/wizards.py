"""Walking an admin wizard by posting each step, as a browser would (STYLE.md "Tests")."""

from __future__ import annotations

import re
from html import unescape

from django.test import Client


class WizardWalk:
    """One run through a wizard at `url` whose storage prefix is `prefix`."""

    def __init__(self, client: Client, url: str, prefix: str) -> None:
        self.client = client
        self.url = url
        self.prefix = prefix

    @classmethod
    def started_by(cls, client: Client, user, url: str, prefix: str) -> WizardWalk:
        """`user`, signed in, on the wizard's first step."""
        client.force_login(user)
        walk = cls(client, url, prefix)
        walk.start()
        return walk

    def start(self, **query):
        return self.client.get(self.url, query)

    def post(self, step: str, fields: dict | None = None, **extra):
        data = {f"{self.prefix}-current_step": step, **extra}
        for name, value in (fields or {}).items():
            data[f"{step}-{name}"] = value
        return self.client.post(self.url, data)

    def through(self, steps: dict[str, dict]):
        """Start over, post each of `steps` (step: fields) in order and then the summary; the
        summary's response."""
        self.start()
        for step, fields in steps.items():
            self.post(step, fields)
        return self.post("summary")

    def back(self, step: str, to: str, fields: dict | None = None):
        return self.post(step, fields, wizard_goto_step=to)


def current_step(response) -> str:
    """The step a wizard page shows, e.g. "Step 2 of 5: Details"."""
    match = re.search(r'id="wizard-step">(.*?)</p>', response.content.decode(), re.S)
    assert match, "not a wizard page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", unescape(match.group(1)))).strip()


def field_errors(response) -> dict[str, list[str]]:
    """The rendered form's errors by field name (without the step prefix)."""
    form = response.context["wizard"]["form"]
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}
