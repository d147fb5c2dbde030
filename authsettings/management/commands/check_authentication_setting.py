"""Fetch what an authentication setting needs and, given a token, check it as a chat would."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from authsettings.models import AuthenticationSetting
from authsettings.setting_check import Check, Finding, check_setting

MARKS = {True: "PASS", False: "FAIL", None: "—"}


class Command(BaseCommand):
    help = (
        "Fetch an authentication setting's keys (or discovery document), print what was "
        "found, and, given a token, every check it passed or failed. Exits 1 when any failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("setting", help="The setting's id or name.")
        parser.add_argument("--token", help="A JWT to check, as the page would hand it over.")

    def handle(self, *args, setting: str, token: str | None, **options):
        record = _find(setting)
        report = check_setting(record, token=None if token is None else token.strip())
        blocks = [
            f"Authentication setting {record.name!r} ({record.get_authentication_type_display()})",
            *map(_finding_text, report.findings),
        ]
        if report.token_checks:
            blocks.append(_checks_text("Token", report.token_checks))
        self.stdout.write("\n\n".join(blocks) + "\n")
        if not report.ok:
            raise CommandError(
                f"{len(report.failures)} check(s) failed; see FAIL above.", returncode=1
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(report.checks)} checks passed."))


def _find(given: str) -> AuthenticationSetting:
    """The setting with this id, else this name. Raises CommandError."""
    found = None
    if given.isdigit():
        found = AuthenticationSetting.objects.filter(pk=int(given)).first()
    found = found or AuthenticationSetting.objects.filter(name=given).first()
    if found is None:
        raise CommandError(f"No authentication setting has the id or name {given!r}.")
    return found


def _finding_text(finding: Finding) -> str:
    lines = [f"{finding.title}: {finding.url or '(not set)'}"]
    lines += [f"  {label}: {value}" for label, value in finding.facts]
    if finding.keys:
        lines.append("  Keys:")
    for key in finding.keys:
        expiry = f"expiry {key.expiry_utc} ({key.expiry})" if key.expiry is not None else ""
        columns = [
            key.format,
            f"kid {key.kid!r}" if key.kid is not None else "no kid",
            f"{key.key_size} bits" if key.key_size is not None else "",
            expiry,
            "usable" if key.usable else f"not usable: {key.problem}",
        ]
        lines.append("    " + ", ".join(column for column in columns if column))
    return "\n".join([*lines, *map(_check_text, finding.checks)])


def _checks_text(title: str, checks: tuple[Check, ...]) -> str:
    return "\n".join([f"{title}:", *map(_check_text, checks)])


def _check_text(check: Check) -> str:
    line = f"  {MARKS[check.passed]:<4}  {check.name}: {check.detail}"
    return f"{line}\n        Fix: {check.fix}" if check.fix else line
