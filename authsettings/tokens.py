"""Verification of signed JWTs (CONTRACT.md "Token rules"): one ordered table of steps.

STEPS are the contract's checks in its order, and the first failure is the one reported: size,
format, header and algorithm, key selection, signature, claims (the context is the caller's,
through workstreams.context.accept_context). `verify` walks them for the widget runtime and
the setting check walks the same table one step at a time, showing each step's pass text or
the fix for its failure. What differs between kinds of token is where the key comes from (a
KeySource) and the Rules: the expected issuer and audience, and steps of their own that run
after the contract's.

The payload parsed for the format check is the one whose claims are checked, here rather than
by PyJWT, so that the codes and their order are the contract's; PyJWT's RSA algorithm checks
the signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from django.conf import settings
from jwt.algorithms import RSAAlgorithm

from authsettings import keys
from contactcenter.lib.errors import Refused
from contactcenter.lib.strict_json import (
    DuplicateMember,
    reject_constant,
    shown,
    without_duplicates,
)

if TYPE_CHECKING:
    from authsettings.models import AuthenticationSetting

MAX_TOKEN_BYTES = 8 * 1024
ALGORITHM = "RS256"
FORBIDDEN_HEADERS = {
    "crit": "no critical extension is supported",
    "jku": "keys come only from the setting's public key URL",
    "x5u": "keys come only from the setting's public key URL",
    "jwk": "keys come only from the setting's public key URL",
    "x5c": "keys come only from the setting's public key URL",
}
REQUIRED_CLAIMS = ("iss", "iat", "exp", "sub")
NUMERIC_DATES = ("iat", "exp", "nbf")
MAX_SUBJECT_LENGTH = 255
MAX_NUMERIC_DATE = 10**13  # Unix seconds: some 300,000 years
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
RS256 = RSAAlgorithm(RSAAlgorithm.SHA256)


class TokenRefused(Refused):
    """A token that is not accepted."""


@dataclass(frozen=True)
class VerifiedToken:
    sub: str
    iss: str
    kid: str | None
    claims: dict[str, Any]


@dataclass(frozen=True)
class Parts:
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


class KeySource(Protocol):
    """Where the key that must have signed a token comes from."""

    # The detail of a signature that does not match the key, saying where the key came from.
    mismatch: str

    def key_for(self, header: dict[str, Any], now: float) -> keys.KeyEntry:
        """The key a token with this (acceptable) header must have been signed with.

        Raises TokenRefused (`key_unavailable`, `unknown_kid`).
        """
        ...


@dataclass(frozen=True)
class KeyUrl:
    """The keys a setting's public key URL publishes, as fetched and cached by keys."""

    url: str
    mismatch: ClassVar[str] = (
        "The signature does not match the key; sign with the private key whose public key the "
        "key URL publishes."
    )

    def key_for(self, header: dict[str, Any], now: float) -> keys.KeyEntry:
        kid = header.get("kid")
        try:
            available = keys.usable_keys(self.url, kid=kid, now=now)
        except keys.KeyUnavailable as error:
            raise TokenRefused("key_unavailable", str(error)) from None
        return select_key(available, kid)


@dataclass(frozen=True)
class Rules:
    """What a token must say: an empty issuer or audience expects none. `more_steps` run after
    the contract's, in order."""

    issuer: str = ""
    audience: str = ""
    more_steps: tuple[Step, ...] = ()

    @classmethod
    def of(cls, setting: AuthenticationSetting) -> Rules:
        return cls(issuer=setting.expected_issuer, audience=setting.expected_audience)


@dataclass
class Reading:
    """A token as the steps read it: each step may rely on what the ones before it found."""

    token: object
    key_source: KeySource
    rules: Rules
    now: float
    parts: Parts = field(init=False, repr=False)
    kid: str | None = field(init=False, default=None)
    key: keys.KeyEntry = field(init=False, repr=False)

    @property
    def payload(self) -> dict[str, Any]:
        return self.parts.payload

    def verified(self) -> VerifiedToken:
        return VerifiedToken(
            sub=self.payload["sub"], iss=self.payload["iss"], kid=self.key.kid, claims=self.payload
        )


@dataclass(frozen=True)
class Step:
    """One check of a token: `check` raises TokenRefused; `passed` tells what a pass found; `fix`
    says in a sentence how to make a failure pass (`fixes` by code, where the codes differ)."""

    name: str
    check: Callable[[Reading], None]
    passed: Callable[[Reading], str]
    fix: str
    fixes: Mapping[str, str] = field(default_factory=dict)

    def fix_for(self, error: TokenRefused) -> str:
        return self.fixes.get(error.code, self.fix)


def verify(token: object, *, key_source: KeySource, rules: Rules, now: float) -> VerifiedToken:
    """Verify a token against a key source and rules at `now`, in Unix seconds (as time.time()
    gives). `kid` in the result is the verifying key's (None for a PEM key).

    Raises TokenRefused at the first step that fails.
    """
    reading = Reading(token, key_source, rules, now)
    for step in steps(rules):
        step.check(reading)
    return reading.verified()


def steps(rules: Rules) -> tuple[Step, ...]:
    """Every step a token goes through under `rules`, in order."""
    return STEPS + rules.more_steps


# Size and format


def _check_size(reading: Reading) -> None:
    token = reading.token
    if token is None or token == "":
        raise TokenRefused("token_missing", "No token was given.")
    if isinstance(token, str) and len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise TokenRefused(
            "token_too_large", f"The token is over {MAX_TOKEN_BYTES // 1024} KiB; carry less in it."
        )


def _check_format(reading: Reading) -> None:
    reading.parts = _split(reading.token)


def _split(token: object) -> Parts:
    if not isinstance(token, str):
        raise TokenRefused("token_malformed", "The token must be a string.")
    segments = token.split(".")
    if len(segments) != 3:
        raise TokenRefused(
            "token_malformed",
            f"A JWT is three base64url segments joined by dots; this has {len(segments)}.",
        )
    header, payload, signature = segments
    return Parts(
        header=_json_object(header, "header"),
        payload=_json_object(payload, "payload"),
        signing_input=f"{header}.{payload}".encode("ascii"),
        signature=_decode_segment(signature, "signature"),
    )


def _decode_segment(segment: str, name: str) -> bytes:
    """Raises TokenRefused unless the segment is canonical, unpadded base64url."""
    if not BASE64URL.fullmatch(segment):
        raise TokenRefused(
            "token_malformed",
            f"The {name} segment is not unpadded base64url (A-Z, a-z, 0-9, - and _, no =).",
        )
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        data = None
    if data is None or base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        raise TokenRefused("token_malformed", f"The {name} segment is not valid base64url.")
    return data


def _json_object(segment: str, name: str) -> dict[str, Any]:
    if not segment:
        raise TokenRefused("token_malformed", f"The {name} segment is empty.")
    try:
        segment_text = _decode_segment(segment, name).decode("utf-8")
        value = json.loads(
            segment_text,
            object_pairs_hook=without_duplicates,
            parse_constant=reject_constant,
        )
        # Unpaired surrogates (I-JSON, RFC 7493) are not text and could not be stored; only
        # a \uD8xx-\uDFxx escape can make one, so most tokens skip the full check.
        if SURROGATE_ESCAPE.search(segment_text):
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except DuplicateMember as duplicate:
        raise TokenRefused(
            "token_malformed", f"The {name} has the member {shown(duplicate.name)} more than once."
        ) from None
    except (ValueError, RecursionError):
        raise TokenRefused("token_malformed", f"The {name} is not UTF-8 JSON.") from None
    if not isinstance(value, dict):
        raise TokenRefused("token_malformed", f"The {name} is not a JSON object.")
    return value


# Header, key and signature


def _check_header(reading: Reading) -> None:
    reading.kid = _header_kid(reading.parts.header)


def _header_kid(header: dict[str, Any]) -> str | None:
    """The header's kid, once the algorithm and the header are acceptable. Raises TokenRefused."""
    alg = header.get("alg")
    if alg != ALGORITHM:
        said = f"alg is {shown(alg)}" if "alg" in header else "there is no alg"
        raise TokenRefused(
            "token_invalid", f"Only {ALGORITHM} is accepted and {said}; sign with {ALGORITHM}."
        )
    if present := [name for name in FORBIDDEN_HEADERS if name in header]:
        reasons = dict.fromkeys(FORBIDDEN_HEADERS[name] for name in present)
        raise TokenRefused(
            "token_invalid",
            f"Remove {', '.join(present)} from the header: {'; '.join(reasons)}.",
        )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenRefused("token_invalid", "The header's kid must be a string.")
    return kid


def _choose_key(reading: Reading) -> None:
    reading.key = reading.key_source.key_for(reading.parts.header, reading.now)


def select_key(available: Sequence[keys.KeyEntry], kid: str | None) -> keys.KeyEntry:
    """The key, among usable keys (at least one), that a token naming `kid` (or none) must
    have been signed with: a PEM key whatever the kid, the only key when none is named, or the
    key with that kid.

    Raises TokenRefused (`unknown_kid`).
    """
    if available[0].format == keys.PEM:
        return available[0]
    if kid is None:
        if len(available) == 1:
            return available[0]
        raise TokenRefused(
            "unknown_kid",
            f"The key URL has {len(available)} usable keys; put the signing key's kid in the "
            "token header.",
        )
    for key in available:
        if key.kid == kid:
            return key
    known = ", ".join(shown(key.kid) for key in available[:10] if key.kid is not None)
    raise TokenRefused(
        "unknown_kid",
        f"No usable key has the kid {shown(kid)}"
        + (f"; the usable kids are {known}." if known else "."),
    )


def _check_signature(reading: Reading) -> None:
    parts = reading.parts
    if not RS256.verify(parts.signing_input, reading.key.public_key(), parts.signature):
        raise TokenRefused("token_invalid", reading.key_source.mismatch)


# Claims


def _check_required(reading: Reading) -> None:
    if missing := [name for name in REQUIRED_CLAIMS if name not in reading.payload]:
        raise TokenRefused("claims_missing", f"The token lacks the claims {', '.join(missing)}.")


def _check_claim_types(reading: Reading) -> None:
    payload = reading.payload
    for name in NUMERIC_DATES:
        if name in payload and not _is_numeric_date(payload[name]):
            raise TokenRefused(
                "claims_invalid",
                f"{name} must be a JSON number of Unix seconds, not a string, boolean or null.",
            )
    if not isinstance(payload["iss"], str) or not payload["iss"]:
        raise TokenRefused("claims_invalid", "iss must be a non-empty string.")
    sub = payload["sub"]
    if not _has_subject_length(sub):
        raise TokenRefused(
            "claims_invalid", f"sub must be a string of 1 to {MAX_SUBJECT_LENGTH} characters."
        )
    if _has_control_characters(sub):
        raise TokenRefused("claims_invalid", "sub must not contain control characters.")


def is_subject(value: object) -> bool:
    """Whether a user id, from a token or a provider, is fit to be a conversation's subject."""
    return _has_subject_length(value) and not _has_control_characters(value)


def _has_subject_length(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= MAX_SUBJECT_LENGTH


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(character) in ("Cc", "Cs") for character in text)


def _is_numeric_date(value: object) -> bool:
    """A JSON number a date can be: finite and within reach of a clock (a 400-digit integer
    would overflow every comparison with a time; NaN and infinity compare as out of reach)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) < MAX_NUMERIC_DATE


def _check_lifetime(reading: Reading) -> None:
    lifetime = reading.payload["exp"] - reading.payload["iat"]
    if lifetime < 0:
        raise TokenRefused("claims_invalid", "exp is before iat.")
    if lifetime > settings.CC_JWT_MAX_LIFETIME_SECONDS:
        raise TokenRefused(
            "claims_invalid",
            f"exp - iat is {lifetime:.0f} s; at most {settings.CC_JWT_MAX_LIFETIME_SECONDS} s "
            "is accepted.",
        )


def _check_expiry(reading: Reading) -> None:
    leeway = settings.CC_JWT_LEEWAY_SECONDS
    exp, now = reading.payload["exp"], reading.now
    if now >= exp + leeway:
        raise TokenRefused(
            "token_expired",
            f"The token expired {now - exp:.0f} s ago (leeway {leeway} s); get a fresh one.",
        )


def _check_not_before(reading: Reading) -> None:
    leeway = settings.CC_JWT_LEEWAY_SECONDS
    payload, now = reading.payload, reading.now
    for name in ("nbf", "iat"):
        if name in payload and payload[name] > now + leeway:
            raise TokenRefused(
                "token_not_yet_valid",
                f"{name} is {payload[name] - now:.0f} s in the future (leeway {leeway} s); check "
                "the clock of the server that signs tokens.",
            )


def _check_issuer(reading: Reading) -> None:
    expected, iss = reading.rules.issuer, reading.payload["iss"]
    if expected and iss != expected:
        raise TokenRefused(
            "issuer_mismatch", f"iss is {shown(iss)}; the setting expects {shown(expected)}."
        )


def _check_audience(reading: Reading) -> None:
    expected = reading.rules.audience
    if not expected:
        return
    if "aud" not in reading.payload:
        raise TokenRefused(
            "claims_missing",
            f"The token lacks the claim aud; the setting expects the audience {shown(expected)}.",
        )
    aud = reading.payload["aud"]
    if expected not in audiences_of(aud):
        raise TokenRefused(
            "claims_invalid",
            f"aud is {shown(aud)}; the setting expects the audience {shown(expected)} in it.",
        )


def audiences_of(aud: object) -> list[str]:
    """The audiences an aud claim names. Raises TokenRefused unless it is a string or a list of
    strings."""
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(item, str) for item in audiences):
        raise TokenRefused("claims_invalid", "aud must be a string or a list of strings.")
    return audiences


# What each step tells when it passes


def utc(seconds: float) -> str:
    """A Unix time as a UTC date an administrator reads."""
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return "out of the calendar's range"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _moment(seconds: float) -> str:
    return f"{utc(seconds)} ({seconds})"


def _size_passed(reading: Reading) -> str:
    size = len(str(reading.token).encode("utf-8", "surrogatepass"))
    return f"{size} byte{'' if size == 1 else 's'}, within {MAX_TOKEN_BYTES // 1024} KiB."


def _header_passed(reading: Reading) -> str:
    kid = reading.kid
    return f"alg is {ALGORITHM}; " + (
        f"the kid is {shown(kid)}." if kid is not None else "there is no kid."
    )


def _key_passed(reading: Reading) -> str:
    key = reading.key
    if key.format == keys.PEM:
        return f"The PEM key of {key.key_size} bits (a single PEM key ignores the kid)."
    return f"The key with the kid {shown(key.kid)}, of {key.key_size} bits."


def _lifetime_passed(reading: Reading) -> str:
    payload = reading.payload
    return (
        f"exp - iat is {payload['exp'] - payload['iat']:.0f} s, within "
        f"{settings.CC_JWT_MAX_LIFETIME_SECONDS} s."
    )


def _expiry_passed(reading: Reading) -> str:
    exp = reading.payload["exp"]
    return f"exp is {_moment(exp)}, {exp - reading.now:.0f} s from now."


def _not_before_passed(reading: Reading) -> str:
    payload = reading.payload
    dates = [f"{date} is {_moment(payload[date])}" for date in ("nbf", "iat") if date in payload]
    return f"{'; '.join(dates)}: not in the future."


def _issuer_passed(reading: Reading) -> str:
    iss = shown(reading.payload["iss"])
    if reading.rules.issuer:
        return f"iss is {iss}, the issuer the setting expects."
    return f"iss is {iss}; the setting expects no particular issuer."


def _audience_passed(reading: Reading) -> str:
    if reading.rules.audience:
        return f"aud holds {shown(reading.rules.audience)}, the audience the setting expects."
    return "The setting expects no particular audience."


# The contract's checks in its order; each may rely on the ones before it having passed.
STEPS: tuple[Step, ...] = (
    Step(
        "size",
        _check_size,
        _size_passed,
        f"Carry less in the token, which must stay within {MAX_TOKEN_BYTES // 1024} KiB: "
        "move bulky data out of lwicontexts.",
    ),
    Step(
        "format",
        _check_format,
        lambda _: "Three base64url segments: a JSON header, a JSON payload and a signature.",
        "Send the compact JWT a JWT library makes: three unpadded base64url segments, "
        "header.payload.signature, the first two JSON objects.",
    ),
    Step(
        "algorithm and header",
        _check_header,
        _header_passed,
        f"Sign with {ALGORITHM} and leave {', '.join(FORBIDDEN_HEADERS)} out of the header.",
    ),
    Step(
        "key",
        _choose_key,
        _key_passed,
        "Make the key URL publish a usable key; what was found there says why none is usable.",
        fixes={
            "unknown_kid": (
                "Put in the token header the kid of the key that signed it, as the key URL lists "
                "it among its usable keys."
            )
        },
    ),
    Step(
        "signature",
        _check_signature,
        lambda _: "The signature matches that key.",
        "Sign with the private key whose public key the key URL publishes under the token's "
        "kid, and send the token unaltered.",
    ),
    Step(
        "required claims",
        _check_required,
        lambda _: f"{', '.join(REQUIRED_CLAIMS)} are present.",
        f"Add {', '.join(REQUIRED_CLAIMS)} to the token's claims.",
    ),
    Step(
        "claim types",
        _check_claim_types,
        lambda _: "The dates are numbers of Unix seconds, iss and sub are strings.",
        "Give iat, exp and nbf as JSON numbers of Unix seconds, iss as a non-empty string and "
        f"sub as a string of 1 to {MAX_SUBJECT_LENGTH} characters without control characters.",
    ),
    Step(
        "lifetime",
        _check_lifetime,
        _lifetime_passed,
        "Issue tokens whose exp comes after their iat, within the lifetime the detail gives.",
    ),
    Step(
        "exp",
        _check_expiry,
        _expiry_passed,
        "Paste a freshly issued token; the page should get a new token for each chat.",
    ),
    Step(
        "nbf and iat",
        _check_not_before,
        _not_before_passed,
        "Set the clock of the server that signs tokens right (NTP), and do not date tokens ahead.",
    ),
    Step(
        "iss",
        _check_issuer,
        _issuer_passed,
        "Make the token's iss the setting's expected issuer, or correct the expected issuer on "
        "the setting.",
    ),
    Step(
        "aud",
        _check_audience,
        _audience_passed,
        "Put the setting's expected audience in the token's aud, as a string or in a list of "
        "strings, or correct the expected audience on the setting.",
    ),
)
