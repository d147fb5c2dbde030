"""Verification of the signed JWTs of `oauth2_implicit` settings (CONTRACT.md "Token rules").

Checks run in the contract's order and the first failure is the one reported: size, format,
header and algorithm, key selection, signature, claims (the context is the caller's, through
workstreams.context.accept_context). The payload parsed for the format check is the one whose
claims are checked, here rather than by PyJWT, so that the codes and their order are the
contract's; PyJWT's RSA algorithm checks the signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from jwt.algorithms import RSAAlgorithm

from authsettings import keys
from contactcenter.errors import CodedError
from contactcenter.strict_json import DuplicateMember, reject_constant, shown, without_duplicates

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


class TokenError(CodedError):
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


def verify(setting: AuthenticationSetting, token: object, *, now: float) -> VerifiedToken:
    """Verify a token against a setting's keys and rules at `now`, in Unix seconds (as
    time.time() gives). `kid` in the result is the verifying key's (None for a PEM key).

    Raises TokenError.
    """
    check_size(token)
    parts = split(token)
    kid = check_header(parts.header)
    key = _choose_key(setting, kid, now)
    check_signature(parts, key)
    check_claims(parts.payload, setting.expected_issuer, now, setting.expected_audience)
    return VerifiedToken(
        sub=parts.payload["sub"], iss=parts.payload["iss"], kid=key.kid, claims=parts.payload
    )


def check_size(token: object) -> None:
    if token is None or token == "":
        raise TokenError("token_missing", "No token was given.")
    if isinstance(token, str) and len(token.encode("utf-8", "surrogatepass")) > MAX_TOKEN_BYTES:
        raise TokenError(
            "token_too_large", f"The token is over {MAX_TOKEN_BYTES // 1024} KiB; carry less in it."
        )


# Format


def split(token: object) -> Parts:
    if not isinstance(token, str):
        raise TokenError("token_malformed", "The token must be a string.")
    segments = token.split(".")
    if len(segments) != 3:
        raise TokenError(
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
    """Raises TokenError unless the segment is canonical, unpadded base64url."""
    if not BASE64URL.fullmatch(segment):
        raise TokenError(
            "token_malformed",
            f"The {name} segment is not unpadded base64url (A-Z, a-z, 0-9, - and _, no =).",
        )
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:
        data = None
    if data is None or base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        raise TokenError("token_malformed", f"The {name} segment is not valid base64url.")
    return data


def _json_object(segment: str, name: str) -> dict[str, Any]:
    if not segment:
        raise TokenError("token_malformed", f"The {name} segment is empty.")
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
        raise TokenError(
            "token_malformed", f"The {name} has the member {shown(duplicate.name)} more than once."
        ) from None
    except (ValueError, RecursionError):
        raise TokenError("token_malformed", f"The {name} is not UTF-8 JSON.") from None
    if not isinstance(value, dict):
        raise TokenError("token_malformed", f"The {name} is not a JSON object.")
    return value


# Header, key and signature


def check_header(header: dict[str, Any]) -> str | None:
    """The header's kid, once the algorithm and the header are acceptable. Raises TokenError."""
    alg = header.get("alg")
    if alg != ALGORITHM:
        said = f"alg is {shown(alg)}" if "alg" in header else "there is no alg"
        raise TokenError(
            "token_invalid", f"Only {ALGORITHM} is accepted and {said}; sign with {ALGORITHM}."
        )
    if present := [name for name in FORBIDDEN_HEADERS if name in header]:
        reasons = dict.fromkeys(FORBIDDEN_HEADERS[name] for name in present)
        raise TokenError(
            "token_invalid",
            f"Remove {', '.join(present)} from the header: {'; '.join(reasons)}.",
        )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise TokenError("token_invalid", "The header's kid must be a string.")
    return kid


def _choose_key(setting: AuthenticationSetting, kid: str | None, now: float) -> keys.KeyEntry:
    """The key that must have signed the token, among the setting's usable keys at `now`.

    Raises TokenError.
    """
    try:
        available = keys.usable_keys(setting, kid=kid, now=now)
    except keys.KeyUnavailable as error:
        raise TokenError("key_unavailable", str(error)) from None
    return select_key(available, kid)


def select_key(available: Sequence[keys.KeyEntry], kid: str | None) -> keys.KeyEntry:
    """The key, among usable keys (at least one), that a token naming `kid` (or none) must
    have been signed with: a PEM key whatever the kid, the only key when none is named, or the
    key with that kid.

    Raises TokenError (`unknown_kid`).
    """
    if available[0].format == keys.PEM:
        return available[0]
    if kid is None:
        if len(available) == 1:
            return available[0]
        raise TokenError(
            "unknown_kid",
            f"The key URL has {len(available)} usable keys; put the signing key's kid in the "
            "token header.",
        )
    for key in available:
        if key.kid == kid:
            return key
    known = ", ".join(shown(key.kid) for key in available[:10] if key.kid is not None)
    raise TokenError(
        "unknown_kid",
        f"No usable key has the kid {shown(kid)}"
        + (f"; the usable kids are {known}." if known else "."),
    )


def check_signature(parts: Parts, key: keys.KeyEntry) -> None:
    """Raises TokenError unless `key` made the token's signature."""
    if not RS256.verify(parts.signing_input, key.public_key(), parts.signature):
        raise TokenError(
            "token_invalid",
            "The signature does not match the key; sign with the private key whose public key "
            "the key URL publishes.",
        )


# Claims


def check_claims(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str = ""
) -> None:
    """Run CLAIM_CHECKS in order; an empty expected issuer or audience expects none. Raises
    TokenError at the first failure."""
    for _name, check in CLAIM_CHECKS:
        check(payload, expected_issuer, now, expected_audience)


def _check_required(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    if missing := [name for name in REQUIRED_CLAIMS if name not in payload]:
        raise TokenError("claims_missing", f"The token lacks the claims {', '.join(missing)}.")


def _check_claim_types(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    for name in NUMERIC_DATES:
        if name in payload and not _is_numeric_date(payload[name]):
            raise TokenError(
                "claims_invalid",
                f"{name} must be a JSON number of Unix seconds, not a string, boolean or null.",
            )
    if not isinstance(payload["iss"], str) or not payload["iss"]:
        raise TokenError("claims_invalid", "iss must be a non-empty string.")
    sub = payload["sub"]
    if not isinstance(sub, str) or not 1 <= len(sub) <= MAX_SUBJECT_LENGTH:
        raise TokenError(
            "claims_invalid", f"sub must be a string of 1 to {MAX_SUBJECT_LENGTH} characters."
        )
    if any(unicodedata.category(character) in ("Cc", "Cs") for character in sub):
        raise TokenError("claims_invalid", "sub must not contain control characters.")


def _is_numeric_date(value: object) -> bool:
    """A JSON number a date can be: finite and within reach of a clock (a 400-digit integer
    would overflow every comparison with a time; NaN and infinity compare as out of reach)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) < MAX_NUMERIC_DATE


def _check_lifetime(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    lifetime = payload["exp"] - payload["iat"]
    if lifetime < 0:
        raise TokenError("claims_invalid", "exp is before iat.")
    if lifetime > settings.CC_JWT_MAX_LIFETIME_SECONDS:
        raise TokenError(
            "claims_invalid",
            f"exp - iat is {lifetime:.0f} s; at most {settings.CC_JWT_MAX_LIFETIME_SECONDS} s "
            "is accepted.",
        )


def _check_expiry(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    leeway = settings.CC_JWT_LEEWAY_SECONDS
    if now >= payload["exp"] + leeway:
        raise TokenError(
            "token_expired",
            f"The token expired {now - payload['exp']:.0f} s ago (leeway {leeway} s); get a "
            "fresh one.",
        )


def _check_not_before(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    leeway = settings.CC_JWT_LEEWAY_SECONDS
    for name in ("nbf", "iat"):
        if name in payload and payload[name] > now + leeway:
            raise TokenError(
                "token_not_yet_valid",
                f"{name} is {payload[name] - now:.0f} s in the future (leeway {leeway} s); check "
                "the clock of the server that signs tokens.",
            )


def _check_issuer(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    if expected_issuer and payload["iss"] != expected_issuer:
        raise TokenError(
            "issuer_mismatch",
            f"iss is {shown(payload['iss'])}; the setting expects {shown(expected_issuer)}.",
        )


def _check_audience(
    payload: dict[str, Any], expected_issuer: str, now: float, expected_audience: str
) -> None:
    if not expected_audience:
        return
    if "aud" not in payload:
        raise TokenError(
            "claims_missing",
            "The token lacks the claim aud; the setting expects the audience "
            f"{shown(expected_audience)}.",
        )
    aud = payload["aud"]
    if expected_audience not in audiences_of(aud):
        raise TokenError(
            "claims_invalid",
            f"aud is {shown(aud)}; the setting expects the audience {shown(expected_audience)} "
            "in it.",
        )


def audiences_of(aud: object) -> list[str]:
    """The audiences an aud claim names. Raises TokenError unless it is a string or a list of
    strings."""
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(item, str) for item in audiences):
        raise TokenError("claims_invalid", "aud must be a string or a list of strings.")
    return audiences


ClaimCheck = Callable[[dict[str, Any], str, float, str], None]

# The claim rules in the order they run, each named for a report of every check
# (authsettings.checkup); each may rely on the ones before it having passed.
CLAIM_CHECKS: tuple[tuple[str, ClaimCheck], ...] = (
    ("required claims", _check_required),
    ("claim types", _check_claim_types),
    ("lifetime", _check_lifetime),
    ("exp", _check_expiry),
    ("nbf and iat", _check_not_before),
    ("iss", _check_issuer),
    ("aud", _check_audience),
)
