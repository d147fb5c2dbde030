"""Small readers for settings from the environment that fail loudly on a bad value."""

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envrate_per_minute(name: str, default: int) -> str | None:
    """A REST framework rate such as `600/minute`; `0` turns the limit off (None)."""
    count = envint(name, default)
    return f"{count}/minute" if count else None


def envlist(name: str, default: str = "") -> list[str]:
    value = os.environ.get(name, default)
    return [item.strip() for item in value.split(",") if item.strip()]


def envurl(name: str, default: str = "", *, with_path: bool = False) -> str:
    """An http(s) base URL without a trailing slash (with a path only where `with_path`), or
    `default` when unset."""
    value = os.environ.get(name, "").strip().rstrip("/") or default
    if not value:
        return ""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or (parts.path and not with_path)
        or parts.query
        or parts.fragment
    ):
        example = "https://gateway.example.com/v1" if with_path else "https://cc.example.com"
        raise ImproperlyConfigured(f"{name} must be a base URL such as {example}, not {value!r}")
    return value


def envbase64(name: str) -> bytes:
    """Base64 bytes (standard or URL-safe alphabet), or b"" when unset."""
    value = os.environ.get(name, "").strip()
    if not value:
        return b""
    try:
        return base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error:
        raise ImproperlyConfigured(f"{name} must be base64.") from None


def envnetworks(name: str) -> list[str]:
    """A comma separated list of IP addresses or networks (`10.0.0.0/8`)."""
    entries = envlist(name)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} lists addresses or networks such as 10.0.0.0/8, not {entry!r}"
            ) from None
    return entries


def generated_once(path: Path, make: Callable[[], str]) -> str:
    """Read a value kept in a git-ignored file, making it on first use.

    The value is written to a private (0600) file of its own, then linked into place, which
    fails if another process got there first: processes starting together agree on one value
    and never read a half-written file.
    """
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(make() + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def private_directory(path: Path) -> None:
    """Make `path` a directory only this user may enter (0700), whether new or not."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def private_sqlite_database(path: Path) -> None:
    """Make the SQLite database at `path` and its -wal and -shm files private (0600).

    A missing database is created empty with that mode: SQLite then gives the -wal and -shm
    files it makes the database's own mode.
    """
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(name).chmod(0o600)


def random_secret_key() -> str:
    return secrets.token_urlsafe(50)
