"""The public keys a setting's tokens are checked against (CONTRACT.md "Token rules").

Keys come only from the setting's public_key_url, in one of three formats: a PEM public key, a
kid list (a JSON array of {"kid", "publicKey": base64(PEM), "expiry": Unix seconds}) or a JWKS
(RFC 7517). Only RSA public keys of at least 2048 bits are used.

Fetched keys are kept as last_good documents in Django's cache, shared by a cluster, as plain
data (PEM text, kid, expiry), so the cluster fetches a key URL about once per
CC_KEY_CACHE_SECONDS; the parsed key objects are memoised per process. A kid nobody has
refetches the URL at most once per REFETCH_SECONDS; when a fetch fails, the keys fetched before
stay in use until their expiry.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from authsettings import last_good
from contactcenter import metrics
from contactcenter.lib import fetch
from contactcenter.lib.shared_cache import cache
from contactcenter.lib.strict_json import reject_constant, shown

PEM = "pem"
KID_LIST = "kid_list"
JWKS = "jwks"

MIN_KEY_BITS = 2048
# A kid-list expiry above this is taken for milliseconds (10**11 seconds is the year 5138).
MILLISECONDS_THRESHOLD = 10**11
REFETCH_SECONDS = 30
# On a cold cache one process of the cluster fetches a key URL; the others look for its keys
# in the shared cache this often, for at most a fetch's time.
COLD_FETCH_POLL_SECONDS = 0.02
COLD_FETCH_WAIT_SECONDS = int(fetch.TIMEOUT_SECONDS) + 1
ACCEPT = "application/json, application/jwk-set+json, application/x-pem-file, text/plain"
JWK_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})

_documents = last_good.LastGood(prefix="authsettings:keys:v2", what="keys")


class KeyUnavailable(Exception):
    """No usable key could be had from a key URL; the message says why, without key material."""


@dataclass(frozen=True)
class KeyEntry:
    """One key found at a key URL, with the problem that keeps it from use (None: usable)."""

    format: str
    kid: str | None = None
    key_size: int | None = None
    expiry: int | None = None
    problem: str | None = None
    pem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None

    def public_key(self) -> rsa.RSAPublicKey:
        """The parsed key of a usable entry, memoised per process."""
        return load_public_key(self.pem or "")

    def at(self, now: float) -> KeyEntry:
        """This entry as it stands at `now`: a key whose expiry has passed is not usable."""
        if self.usable and self.expiry is not None and now >= self.expiry:
            return replace(self, problem=f"expired (expiry {self.expiry} has passed)")
        return self


@lru_cache(maxsize=128)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse a usable entry's PEM text once per process."""
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("not an RSA public key")
    return key


def usable_keys(url: str, *, kid: str | None = None, now: float | None = None) -> list[KeyEntry]:
    """The keys a key URL publishes that are usable at `now` (Unix seconds; default the
    current time).

    Given the `kid` a token names, a kid no usable key has makes the key URL be fetched again,
    at most once per REFETCH_SECONDS per URL (a PEM key ignores kids). Raises KeyUnavailable
    when no usable key can be had.
    """
    check_url(url)
    now = time.time() if now is None else now
    held, tried = _held_keys(url, now)
    if not tried and _lacks_kid(held, kid, now):
        held = _refetch_for_kid(url, kid, now, held)
    usable = held.usable_at(now)
    if not usable:
        raise KeyUnavailable(held.why_none())
    return usable


def describe(body: bytes, *, now: float) -> list[KeyEntry]:
    """Every entry of a key document as of `now`, usable or not, for an administrator.

    Raises KeyUnavailable when the document is none of the three formats.
    """
    return [entry.at(now) for entry in parse_document(body)]


def parse_document(body: bytes) -> list[KeyEntry]:
    """Every key in a key document, each with its problem, if any (expiry aside).

    Raises KeyUnavailable when the document is none of the three formats.
    """
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise KeyUnavailable("The key URL's answer is not UTF-8 text.") from None
    if text.startswith("-----BEGIN"):
        return [_pem_entry(PEM, text.encode("ascii", "replace"))]
    try:
        document = json.loads(text, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        raise KeyUnavailable(
            "The key URL's answer is neither a PEM public key nor JSON (a kid list or a JWKS)."
        ) from None
    if isinstance(document, list):
        entries = [_kid_list_entry(item) for item in document]
    elif isinstance(document, dict) and isinstance(document.get("keys"), list):
        entries = [_jwk_entry(item) for item in document["keys"]]
    else:
        raise KeyUnavailable(
            'The key URL\'s JSON is neither a kid list (an array) nor a JWKS ({"keys": [...]}).'
        )
    return _without_duplicate_kids(entries)


def check_url(url: str) -> None:
    """Raises KeyUnavailable for a setting without a key URL."""
    if not url:
        raise KeyUnavailable("The authentication setting has no public key URL.")


# Parsing


def _pem_entry(format: str, pem: bytes | None) -> KeyEntry:
    if pem is None:
        return KeyEntry(format, problem="publicKey is not base64 of a PEM public key")
    if b"PRIVATE KEY" in pem.split(b"\n", 1)[0]:
        return KeyEntry(
            format,
            problem="a private key is published; publish only the public key, and replace "
            "this key pair, since its private half is exposed",
        )
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return KeyEntry(format, problem="not a PEM public key")
    return _public_key_entry(format, key)


def _public_key_entry(format: str, key: object) -> KeyEntry:
    if not isinstance(key, rsa.RSAPublicKey):
        return KeyEntry(format, problem=f"{_key_kind(key)}; only RSA keys are used")
    entry = KeyEntry(format, key_size=key.key_size)
    if key.key_size < MIN_KEY_BITS:
        return replace(
            entry, problem=f"an RSA key of {key.key_size} bits; at least {MIN_KEY_BITS} are needed"
        )
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return replace(entry, pem=pem.decode("ascii"))


def _key_kind(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an EC key ({key.curve.name})"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "an EdDSA key"
    return "not an RSA key"


def _kid_list_entry(item: object) -> KeyEntry:
    if not isinstance(item, dict):
        return KeyEntry(KID_LIST, problem="the entry is not a JSON object")
    kid, expiry = item.get("kid"), item.get("expiry")
    entry = _pem_entry(KID_LIST, _base64_pem(item.get("publicKey")))
    problem = _kid_problem(kid, required=True) or _expiry_problem(expiry) or entry.problem
    return replace(
        entry,
        kid=_kid_of(kid),
        expiry=expiry if _is_integer(expiry) else None,
        problem=problem,
    )


def _base64_pem(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        return None


def _kid_problem(kid: object, *, required: bool) -> str | None:
    if kid is None and not required:
        return None
    if not isinstance(kid, str) or not kid:
        return "no kid; give kid as a non-empty string"
    if not _is_unicode(kid):
        return "the kid is not valid Unicode (a lone surrogate); give kid as text"
    return None


def _is_unicode(text: str) -> bool:
    """Whether text is valid Unicode: a JSON escape such as \\ud800 makes text that is not,
    which no page or token could show or carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _kid_of(kid: object) -> str | None:
    """The kid an entry is known by: None unless a string of valid Unicode."""
    return kid if isinstance(kid, str) and _is_unicode(kid) else None


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expiry_problem(expiry: object) -> str | None:
    if expiry is None:
        return "no expiry; give expiry as an integer of Unix seconds"
    if not _is_integer(expiry):
        return "expiry is not an integer of Unix seconds"
    if expiry > MILLISECONDS_THRESHOLD:
        return "expiry looks like milliseconds; give Unix seconds"
    return None


def _jwk_entry(item: object) -> KeyEntry:
    if not isinstance(item, dict):
        return KeyEntry(JWKS, problem="the key is not a JSON object")
    kid = item.get("kid")
    entry = _jwk_key_entry(item)
    return replace(
        entry,
        kid=_kid_of(kid),
        problem=_kid_problem(kid, required=False) or entry.problem,
    )


def _jwk_key_entry(jwk: dict[str, Any]) -> KeyEntry:
    if jwk.get("kty") != "RSA":
        return KeyEntry(JWKS, problem=f"kty is {shown(jwk.get('kty'))}; only RSA keys are used")
    if private := sorted(JWK_PRIVATE_MEMBERS & jwk.keys()):
        return KeyEntry(
            JWKS,
            problem=f"a private key is published (it has {', '.join(private)}); publish only "
            "n and e, and replace this key pair, since its private half is exposed",
        )
    if jwk.get("use", "sig") != "sig":
        return KeyEntry(JWKS, problem=f"use is {shown(jwk['use'])}; tokens need a sig key")
    if jwk.get("alg", "RS256") != "RS256":
        return KeyEntry(JWKS, problem=f"alg is {shown(jwk['alg'])}; tokens are RS256")
    try:
        numbers = rsa.RSAPublicNumbers(_base64url_int(jwk.get("e")), _base64url_int(jwk.get("n")))
        key = numbers.public_key()
    except ValueError:
        return KeyEntry(JWKS, problem="n and e are not a valid base64url-encoded RSA key")
    return _public_key_entry(JWKS, key)


def _base64url_int(value: object) -> int:
    """Raises ValueError unless the value is base64url text."""
    if not isinstance(value, str) or not value:
        raise ValueError("not base64url text")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except binascii.Error:
        raise ValueError("not base64url text") from None
    return int.from_bytes(data, "big")


def _without_duplicate_kids(entries: list[KeyEntry]) -> list[KeyEntry]:
    counts = Counter(entry.kid for entry in entries if entry.kid is not None)
    return [
        replace(
            entry,
            problem=entry.problem
            or f"the kid appears {counts[entry.kid]} times; duplicate kids are not used",
        )
        if entry.kid is not None and counts[entry.kid] > 1
        else entry
        for entry in entries
    ]


# Fetching and caching


@dataclass(frozen=True)
class _Held:
    """The usable keys of one fetch of a key URL."""

    document: last_good.Document

    @property
    def fetched_at(self) -> float:
        return self.document.fetched_at

    @cached_property
    def keys(self) -> tuple[KeyEntry, ...]:
        return tuple(KeyEntry(**key) for key in self.document.data["keys"])

    def is_fresh(self, now: float) -> bool:
        return self.document.is_fresh(now)

    def usable_at(self, now: float) -> list[KeyEntry]:
        return [key for key in self.keys if key.at(now).usable]

    def why_none(self) -> str:
        if self.keys:
            return "Every usable key the key URL published has expired."
        if problems := self.document.data["problems"]:
            return f"The key URL has no usable key: {problems}."
        return "The key URL lists no keys."


def _held_keys(url: str, now: float) -> tuple[_Held, bool]:
    """The keys held for a URL, refreshed when stale, and whether the URL was just tried."""
    held = _recent.get(url)
    if held is None or not held.is_fresh(now):
        held = _cached(url)
    if held is not None and held.is_fresh(now):
        _recent[url] = held
        return held, False
    lock = _lock_for(url)
    # While another thread refreshes stale keys (up to the fetch deadline), the keys held
    # keep serving; only a cold cache waits for the fetch.
    if not lock.acquire(blocking=held is None):
        return held, False
    try:
        latest = _cached(url)
        if latest is not None and latest.is_fresh(now):
            return latest, False
        if latest is not None:
            return _refresh(url, now, latest)
        with _cold_fetch(url) as fetched_elsewhere:
            if fetched_elsewhere is not None:
                return fetched_elsewhere, False
            return _refresh(url, now, None)
    finally:
        lock.release()


@contextmanager
def _cold_fetch(url: str) -> Iterator[_Held | None]:
    """A key URL no process holds keys of: the keys another process of the cluster fetched
    while this one waited for them; None when this one is to fetch (it holds the URL's claim
    in the shared cache meanwhile, or waited a whole fetch's time in vain)."""
    key = _documents.cache_key("fetching", url)
    wait_until = time.monotonic() + COLD_FETCH_WAIT_SECONDS
    while not cache.add(key, 1, timeout=COLD_FETCH_WAIT_SECONDS):
        if time.monotonic() >= wait_until:
            yield None
            return
        time.sleep(COLD_FETCH_POLL_SECONDS)
        held = _cached(url)
        if held is not None:
            yield held
            return
    try:
        yield None
    finally:
        cache.delete(key)


def _refetch_for_kid(url: str, kid: str | None, now: float, held: _Held) -> _Held:
    with _lock_for(url):
        latest = _cached(url)
        if latest is not None and latest.fetched_at > held.fetched_at:
            held = latest
            if not _lacks_kid(held, kid, now):
                return held
        if last_good.claim(_documents.cache_key("refetch", url), now, REFETCH_SECONDS) is not None:
            return held
        return _refresh(url, now, held)[0]


def _lacks_kid(held: _Held, kid: str | None, now: float) -> bool:
    if kid is None or any(key.format == PEM for key in held.keys):
        return False
    return all(key.kid != kid for key in held.usable_at(now))


def _refresh(url: str, now: float, held: _Held | None) -> tuple[_Held, bool]:
    """Fetch the key URL as last_good allows, falling back on the keys held. Returns the keys
    and whether the URL was tried.

    Raises KeyUnavailable when there is nothing to fall back on.
    """
    try:
        document, tried = _documents.refresh(
            url, now, lambda: _load(url), None if held is None else held.document
        )
    except last_good.Unavailable as error:
        raise KeyUnavailable(error.detail) from None
    if held is not None and document is held.document:
        return held, tried
    fresh = _Held(document)
    _recent[url] = fresh
    return fresh, tried


def _load(url: str) -> dict[str, Any]:
    """The usable keys at a key URL as plain data, and what is wrong with the others. Raises
    last_good.Unavailable."""
    try:
        entries = parse_document(_download(url))
    except KeyUnavailable as error:
        raise last_good.Unavailable("key_unavailable", str(error)) from None
    return {
        "keys": [asdict(entry) for entry in entries if entry.usable],
        "problems": "; ".join(
            f"{entry.kid or f'entry {number}'}: {entry.problem}"
            for number, entry in enumerate(entries, start=1)
            if not entry.usable
        )[:500],
    }


@metrics.counted(metrics.KEY_FETCHES, metrics.always_ok)
def _download(url: str) -> bytes:
    try:
        return fetch.fetch(url, accept=ACCEPT).body
    except fetch.FetchError as error:
        raise KeyUnavailable(f"The key URL could not be fetched: {error}") from None


def _cached(url: str) -> _Held | None:
    document = _documents.get(url)
    return None if document is None else _Held(document)


# Fresh keys this process already read from the shared cache, so the hot path of a check
# makes no cache round trip. Keys learnt elsewhere (a rotation another process fetched) are
# still found: an unknown kid reads the shared cache before refetching.
_recent: dict[str, _Held] = {}


def forget_recent() -> None:
    """Drop this process's copies of fetched keys (the shared cache keeps its own)."""
    _recent.clear()


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(url: str) -> threading.Lock:
    """One lock per URL, so concurrent requests in a process fetch a key URL once."""
    with _locks_guard:
        return _locks.setdefault(url, threading.Lock())
