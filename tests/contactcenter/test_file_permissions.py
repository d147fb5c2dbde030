"""var/ and the SQLite database hold sessions, tokens and keys: only the platform's own user
may read them, on a fresh start and on a machine that already had them readable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

# Starts the platform on the database given, writes to it, and prints the modes of var/ and of
# the database files while the connection is open (SQLite drops -wal and -shm when it closes).
START_AND_WRITE = """
import os, django
django.setup()
from django.conf import settings
from django.db import connection
connection.cursor().execute("CREATE TABLE IF NOT EXISTS visits (n integer)")
connection.cursor().execute("INSERT INTO visits VALUES (1)")
name = settings.DATABASES["default"]["NAME"]
paths = [settings.VAR_DIR, name, name + "-wal", name + "-shm"]
print(*(oct(os.stat(path).st_mode & 0o777) for path in paths))
"""


def modes_after_start(database: Path) -> list[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "contactcenter.settings",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", START_AND_WRITE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_fresh_start_keeps_var_and_the_database_private(tmp_path):
    assert modes_after_start(tmp_path / "db.sqlite3") == ["0o700", "0o600", "0o600", "0o600"]


def test_a_start_on_readable_files_makes_them_private(tmp_path):
    database = tmp_path / "db.sqlite3"
    modes_after_start(database)
    for path in (settings.VAR_DIR, tmp_path):
        path.chmod(0o755)
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o644)

    assert modes_after_start(database) == ["0o700", "0o600", "0o600", "0o600"]
