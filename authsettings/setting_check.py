"""The check of an authentication setting, behind the admin's "Test this setting" page and
`manage.py check_authentication_setting` (CONTRACT.md "Management commands").

It fetches now what the platform fetches for the setting and tells what it found there; for
the code flows it vets each URL the platform will call without sending anything. Given an
implicit-flow token, it walks the widget runtime's own steps (tokens.STEPS, then the context
through workstreams.context) one at a time, telling what each found or how to fix its failure.
Every fetch goes through the guarded fetcher.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authsettings import keys, oidc, token_actions, tokens
from authsettings.models import AuthenticationSetting
from authsettings.tokens import TokenRefused
from contactcenter.lib import fetch, outbound
from contactcenter.lib.strict_json import shown
from workstreams import context as context_typing
from workstreams.models import Workstream

NOT_RUN = "Not run: an earlier check failed."
FORMAT_LABELS = {keys.PEM: "PEM key", keys.KID_LIST: "kid list", keys.JWKS: "JWKS"}
VET_NAME = "outbound rules"

UNDISCLOSED = (
    "Nothing usable came from {host}. It is reached only because CC_OUTBOUND_ALLOWED_HOSTS "
    "lists it, and for such hosts the check does not say why (a refused connection, no "
    "answer in time and an error status look alike here), so that it cannot map internal "
    "services; the service's own logs tell."
)

FIX_USABLE_KEYS = (
    "Publish at least one RSA public key of 2048 bits or more that has not expired; the key "
    "table says why each key is not used."
)
FIX_VET = (
    "Use a public https URL, or list the host in CC_OUTBOUND_ALLOWED_HOSTS when it is an "
    "internal service the platform must reach."
)
FIX_ISSUER = (
    "Set the discovery URI to the provider's issuer followed by "
    f"{oidc.DISCOVERY_PATH}, exactly as the provider publishes it."
)
FIX_DISCOVERY = (
    "Use the provider's own discovery document: it must name a token endpoint and a jwks_uri, "
    f"sign id tokens with {tokens.ALGORITHM} and take client_secret_basic or client_secret_post."
)
FIX_CONTEXT = (
    "Send lwicontexts as a JSON object, or a string holding one, of at most "
    f"{context_typing.MAX_CONTEXT_VARIABLES} variables and "
    f"{context_typing.MAX_CONTEXT_BYTES // 1024} KiB, each name once."
)
FIX_BY_VARIABLE_TYPE = {
    context_typing.NUMBER: 'Send a JSON number or a numeric string such as "10000".',
    context_typing.BOOLEAN: 'Send true or false, or the string "true" or "false".',
    context_typing.TEXT: (
        f"Send a string or a number of at most {context_typing.MAX_VALUE_LENGTH} characters."
    ),
}


@dataclass(frozen=True)
class Check:
    """One check. `passed` is None when an earlier failure kept it from running; `fix` says in
    a sentence how to make a failed check pass."""

    name: str
    passed: bool | None
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class KeyRow:
    """One entry of a key document, as an administrator reads it."""

    format: str
    kid: str | None
    key_size: int | None
    expiry: int | None
    problem: str | None

    @classmethod
    def of(cls, entry: keys.KeyEntry) -> KeyRow:
        return cls(
            format=FORMAT_LABELS.get(entry.format, entry.format),
            kid=entry.kid,
            key_size=entry.key_size,
            expiry=entry.expiry,
            problem=entry.problem,
        )

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def expiry_utc(self) -> str:
        return "" if self.expiry is None else tokens.utc(self.expiry)


@dataclass(frozen=True)
class Finding:
    """Something the platform reaches for the setting (a key URL, a discovery document, a
    token URL): the checks made of it, and what was found there."""

    title: str
    url: str
    checks: tuple[Check, ...]
    facts: tuple[tuple[str, str], ...] = ()
    keys: tuple[KeyRow, ...] = ()


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    token_checks: tuple[Check, ...] = ()

    @property
    def checks(self) -> list[Check]:
        """Every check, the findings' first."""
        return [check for finding in self.findings for check in finding.checks] + list(
            self.token_checks
        )

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.passed is False]

    @property
    def ok(self) -> bool:
        return not self.failures


def check_setting(
    setting: AuthenticationSetting, *, token: str | None = None, now: float | None = None
) -> Report:
    """Fetch what the setting needs at `now` (Unix seconds; default the current time) and, for
    an implicit-flow setting given a token, check the token as the widget runtime would."""
    now = time.time() if now is None else now
    kind = AuthenticationSetting.Type
    if setting.authentication_type == kind.OAUTH2_IMPLICIT:
        finding, usable = _key_finding("Public key URL", setting.public_key_url, now)
        token_checks = () if token is None else _token_checks(setting, token, usable, now)
        return Report((finding,), token_checks)
    if setting.authentication_type == kind.OPENID_CONNECT:
        findings = _openid_findings(setting.discovery_uri, now)
    else:
        findings = tuple(_vet_finding(title, url) for title, url in _called_urls(setting))
    if token is None:
        return Report(findings)
    not_taken = Check(
        "token",
        None,
        "Only OAuth 2.0 implicit flow settings check a pasted token; visitors of this setting "
        "sign in through its provider.",
    )
    return Report(findings, (not_taken,))


# What the setting reaches


def _key_finding(title: str, url: str, now: float) -> tuple[Finding, list[keys.KeyEntry]]:
    """What a key URL publishes now, and its usable keys."""
    try:
        entries = keys.describe(_key_document(url), now=now)
    except keys.KeyUnavailable as error:
        failed = Check("key document", False, str(error), _fetch_fix(url, "the key document"))
        return Finding(title, url, (failed,)), []
    usable = [entry for entry in entries if entry.usable]
    if not entries:
        found = "A key document that lists no keys."
    elif entries[0].format == keys.PEM:
        found = "A PEM key."
    else:
        found = f"A {FORMAT_LABELS[entries[0].format]} of {_count(len(entries), 'key')}."
    checks = (
        Check("key document", True, found),
        Check(
            "usable keys",
            bool(usable),
            f"{len(usable)} of {_count(len(entries), 'key')} can verify tokens.",
            "" if usable else FIX_USABLE_KEYS,
        ),
    )
    return Finding(title, url, checks, keys=tuple(KeyRow.of(entry) for entry in entries)), usable


def _key_document(url: str) -> bytes:
    """Raises KeyUnavailable."""
    keys.check_url(url)
    try:
        return _fetched(url, keys.ACCEPT)
    except fetch.FetchError as error:
        raise keys.KeyUnavailable(f"The key URL could not be fetched: {error}") from None


def _openid_findings(url: str, now: float) -> tuple[Finding, ...]:
    """The discovery document, its issuer, and what the platform reaches through it."""
    title = "Discovery document"
    if not url:
        return (_missing(title),)
    try:
        body = _fetched(url, "application/json")
    except fetch.FetchError as error:
        failed = Check("fetch", False, str(error), _fetch_fix(url, "the discovery document"))
        return (Finding(title, url, (failed,)),)
    fetched = Check("fetch", True, f"Fetched {_count(len(body), 'byte')}.")
    try:
        provider = oidc.parse_discovery(url, body)
    except TokenRefused as error:
        if error.code == "issuer_mismatch":
            checks = (
                Check("issuer", False, error.detail, FIX_ISSUER),
                Check("discovery document", None, NOT_RUN),
            )
        else:
            checks = (
                Check("issuer", None, "Not known: the document cannot be used."),
                Check("discovery document", False, error.detail, FIX_DISCOVERY),
            )
        return (Finding(title, url, (fetched, *checks)),)
    checks = (
        fetched,
        Check("issuer", True, f"{provider.issuer} is the issuer the discovery URI names."),
        Check("discovery document", True, "The platform has all it needs from it."),
    )
    facts = (
        ("Issuer", provider.issuer),
        ("Token endpoint", provider.token_endpoint),
        ("JWKS URI", provider.jwks_uri),
        ("Userinfo endpoint", provider.userinfo_endpoint or "none"),
        ("Client authentication", provider.client_auth_method),
    )
    jwks, _usable = _key_finding("JWKS (the discovery document's jwks_uri)", provider.jwks_uri, now)
    return (
        Finding(title, url, checks, facts=facts),
        jwks,
        _vet_finding("Token endpoint (from the discovery document)", provider.token_endpoint),
    )


def _fetched(url: str, accept: str) -> bytes:
    """The body at `url`, through the guarded fetcher. Raises fetch.FetchError with the
    fetcher's reason when the URL breaks the outbound rules or its host is not listed in
    CC_OUTBOUND_ALLOWED_HOSTS. Listed hosts are the only ones the fetcher lets reach loopback
    and private addresses, where the reason (refused, timed out, an HTTP status) would tell
    which ports listen: for them it is UNDISCLOSED, whatever happened."""
    host = urlsplit(url).hostname or ""
    if not outbound.is_allowed_host(host):
        return fetch.fetch(url, accept=accept).body
    fetch.vet(url)  # a refusal by the outbound rules keeps its reason
    try:
        return fetch.fetch(url, accept=accept).body
    except fetch.FetchError:
        raise fetch.FetchError(UNDISCLOSED.format(host=host)) from None


def _called_urls(setting: AuthenticationSetting) -> list[tuple[str, str]]:
    """The URLs a code-flow setting makes the platform call, titled."""
    if setting.is_apple:
        return [
            ("Access token URL", setting.access_token_url),
            ("Decrypted token URL", setting.decrypted_token_url),
        ]
    urls = [("Token URL", setting.token_url)]
    # The built-in token actions read the provider's discovery document.
    if setting.token_custom_action in token_actions.BUILT_IN and (
        setting.discovery_uri or setting.token_url
    ):
        urls.append(
            (
                f"Discovery document (read by the {setting.token_custom_action} action)",
                oidc.discovery_uri_of(setting),
            )
        )
    return urls


def _vet_finding(title: str, url: str) -> Finding:
    """A URL vetted under the outbound rules and resolved, without sending anything."""
    if not url:
        return _missing(title)
    try:
        address = fetch.vet(url)
    except fetch.FetchError as error:
        return Finding(title, url, (Check(VET_NAME, False, str(error), FIX_VET),))
    passed = Check(
        VET_NAME,
        True,
        f"The host resolves to {address}, an address the platform may reach; nothing was sent.",
    )
    return Finding(title, url, (passed,), facts=(("Address", str(address)),))


def _missing(title: str) -> Finding:
    what = title[0].lower() + title[1:]
    return Finding(
        title, "", (Check(VET_NAME, False, f"The setting has no {what}.", f"Fill in the {what}."),)
    )


def _fetch_fix(url: str, what: str) -> str:
    return (
        f"Make {url or 'the URL'} answer HTTP 200 with {what}, over https (plain http only for "
        "hosts listed in CC_OUTBOUND_ALLOWED_HOSTS), without a redirect, within "
        f"{fetch.TIMEOUT_SECONDS:g} s and {fetch.MAX_BODY_BYTES // 1024} KiB."
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# The token


@dataclass(frozen=True)
class FetchedKeys:
    """The usable keys the check just fetched from the key URL, as a key source."""

    usable: list[keys.KeyEntry]
    mismatch = tokens.KeyUrl.mismatch

    def key_for(self, header: dict[str, Any], now: float) -> keys.KeyEntry:
        if not self.usable:
            raise TokenRefused("key_unavailable", "No usable key could be had from the key URL.")
        return tokens.select_key(self.usable, header.get("kid"))


def _token_checks(
    setting: AuthenticationSetting, token: str, usable: list[keys.KeyEntry], now: float
) -> tuple[Check, ...]:
    """The runtime's steps one at a time; after the first failure the rest are not run."""
    rules = tokens.Rules.of(setting)
    reading = tokens.Reading(token, FetchedKeys(usable), rules, now)
    checks: list[Check] = []
    failed = False
    for step in tokens.steps(rules):
        if failed:
            checks.append(Check(step.name, None, NOT_RUN))
            continue
        try:
            step.check(reading)
        except TokenRefused as error:
            failed = True
            checks.append(Check(step.name, False, error.detail, step.fix_for(error)))
        else:
            checks.append(Check(step.name, True, step.passed(reading)))
    if failed:
        return (*checks, Check("lwicontexts", None, NOT_RUN))
    return (*checks, *_context_checks(setting, reading.payload.get("lwicontexts")))


def _context_checks(setting: AuthenticationSetting, raw: object) -> list[Check]:
    """lwicontexts as a whole, then each variable against each workstream using the setting."""
    try:
        _, names = context_typing.accept_context(raw, {})
    except context_typing.ContextInvalid as error:
        return [Check("lwicontexts", False, f"{error}.", FIX_CONTEXT)]
    if not names:
        return [Check("lwicontexts", True, "The token carries no context variables.")]
    # Accepted above, so a string holds a JSON object without duplicate names.
    variables = raw if isinstance(raw, dict) else json.loads(raw)
    workstreams = (
        Workstream.objects.filter(channel_instances__authentication_setting=setting)
        .distinct()
        .prefetch_related("context_variables")
        if setting.pk is not None
        else Workstream.objects.none()
    )
    checks = [
        Check(
            "lwicontexts",
            True,
            f"{_count(len(names), 'variable')}: {', '.join(shown(name) for name in names)}"
            + ("." if workstreams else "; no chat uses this setting yet, so none is typed."),
        )
    ]
    for workstream in workstreams:
        types = workstream.variable_types()
        checks += [_variable_check(workstream, types, name, variables[name]) for name in names]
    return checks


def _variable_check(
    workstream: Workstream, types: dict[str, str], name: str, value: object
) -> Check:
    label = f"{workstream.name}: {name}"
    try:
        accepted, dropped = context_typing.accept_context({name: value}, types)
    except context_typing.ContextInvalid as error:
        detail = f"{error} ({name} is a {types[name]} variable of {workstream.name})."
        return Check(label, False, detail, FIX_BY_VARIABLE_TYPE[types[name]])
    if dropped:
        return Check(
            label,
            False,
            f"{workstream.name} defines no variable {shown(name)}: the chat starts, but "
            "without it.",
            f"Add {name} to the context variables of {workstream.name}, or send the name it "
            "has there (names are case-sensitive).",
        )
    if name not in accepted:
        return Check(label, True, "null, which counts as absent.")
    return Check(label, True, f"A {types[name]} variable: the chat gets {shown(accepted[name])}.")
