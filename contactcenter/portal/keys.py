"""The sample portal's RSA signing keys, generated on this machine into var/portal/ and never
committed.

Every key has a kid and an expiry. The newest unexpired key signs; rotation adds a new key and
leaves the older ones published until their own expiry, so tokens signed just before a rotation
still verify (the platform refetches the kid list when it meets an unknown kid).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings

from contactcenter.lib.keygen import new_rsa_private_key_pem

KEY_LIFETIME_SECONDS = 90 * 24 * 3600
# A day before the signing key expires a new one takes over, so no token outlives its key.
RENEW_BEFORE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class SigningKey:
    kid: str
    expiry: int  # Unix seconds
    private_key_pem: str

    @property
    def public_key_pem(self) -> str:
        private_key = serialization.load_pem_private_key(
            self.private_key_pem.encode(), password=None
        )
        return (
            private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def published(self) -> dict:
        """This key as an entry of the kid list the platform reads."""
        return {
            "kid": self.kid,
            "publicKey": base64.b64encode(self.public_key_pem.encode()).decode(),
            "expiry": self.expiry,
        }


def current_key(now: float | None = None) -> SigningKey:
    """The key that signs at `now`: made on first use, renewed a day before it expires."""
    return published_keys(now)[-1]


def published_keys(now: float | None = None) -> list[SigningKey]:
    """Every unexpired key, oldest first (the last one signs)."""
    now = time.time() if now is None else now
    with _locked_store() as store:
        keys = _unexpired(store.load(), now)
        if not keys or keys[-1].expiry - now < RENEW_BEFORE_SECONDS:
            keys = [*keys, _new_key(now)]
            store.save(keys)
        return keys


def rotate(now: float | None = None) -> SigningKey:
    """Add a new current key; expired keys are dropped, unexpired ones stay published."""
    now = time.time() if now is None else now
    with _locked_store() as store:
        key = _new_key(now)
        store.save([*_unexpired(store.load(), now), key])
        return key


def _unexpired(keys: list[SigningKey], now: float) -> list[SigningKey]:
    return sorted((key for key in keys if key.expiry > now), key=lambda key: key.expiry)


def _new_key(now: float) -> SigningKey:
    made = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
    return SigningKey(
        kid=f"portal-{made}-{secrets.token_hex(4)}",
        expiry=int(now) + KEY_LIFETIME_SECONDS,
        private_key_pem=new_rsa_private_key_pem(),
    )


class _Store:
    def __init__(self, path: Path):
        self.path = path

    def load(self) -> list[SigningKey]:
        try:
            entries = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        return [SigningKey(**entry) for entry in entries]

    def save(self, keys: list[SigningKey]) -> None:
        """Replace the file in one step, so a reader never sees half of it."""
        staged = self.path.with_suffix(".tmp")
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump([asdict(key) for key in keys], handle, indent=1)
        os.replace(staged, self.path)


@contextmanager
def _locked_store() -> Iterator[_Store]:
    """The key file, held under a lock shared by every process on this machine."""
    directory = settings.VAR_DIR / "portal"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / "keys.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield _Store(directory / "keys.json")
    finally:
        os.close(fd)
