"""var/ and the SQLite database hold sessions, tokens and keys: only the platform's own user
may read them, on a fresh start and on a machine that already had them readable.

var/ is the repository's own (settings.VAR_DIR), already made private when the suite's settings
loaded, so only the database can be seen starting fresh; var/ is shown made private again after
a test makes it readable, and is left private whatever the test's outcome."""

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


PRIVATE_DATABASE = ["0o600", "0o600", "0o600"]


def modes_after_start(database: Path) -> tuple[str, list[str]]:
    """The mode of var/ and those of the database, its -wal and its -shm, after a start."""
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
    var_mode, *database_modes = result.stdout.split()
    return var_mode, database_modes


def test_a_fresh_start_keeps_a_new_database_private(tmp_path):
    _, database_modes = modes_after_start(tmp_path / "db.sqlite3")
    assert database_modes == PRIVATE_DATABASE


def test_a_start_on_readable_files_makes_them_private(tmp_path):
    database = tmp_path / "db.sqlite3"
    modes_after_start(database)
    try:
        for path in (settings.VAR_DIR, tmp_path):
            path.chmod(0o755)
        for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
            (tmp_path / name).touch()
            (tmp_path / name).chmod(0o644)

        assert modes_after_start(database) == ("0o700", PRIVATE_DATABASE)
    finally:
        settings.VAR_DIR.chmod(0o700)
