"""Online backups of the embedded SQLite database, through SQLite's own backup API.

The backup API copies a consistent snapshot while the web app and workers keep writing (it
restarts its copy if a writer changes a page it already copied), so nothing has to stop.
PostgreSQL has its own tools (pg_dump), which the README documents.
"""

import os
import sqlite3
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

PAGES_PER_STEP = 1024  # copy in steps so writers are never locked out for long


def sqlite_path() -> Path:
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.sqlite3":
        raise ValidationError(
            {
                "DATABASE_URL": "backup and restore handle the SQLite file; for PostgreSQL use "
                '`pg_dump --format=custom --file=PATH "$DATABASE_URL"` and `pg_restore` '
                "(README, Backups)"
            }
        )
    return Path(database["NAME"])


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=30)


def backup_database(*, destination: Path) -> int:
    """Copy the live database to `destination` (written beside it, then renamed into place,
    so a half-written file never carries the name). Returns the copy's size in bytes."""
    source_path = sqlite_path()
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    with connect(source_path) as source, connect(partial) as copy:
        source.backup(copy, pages=PAGES_PER_STEP)
        problem = integrity_problem(copy)
    source.close()
    copy.close()
    if problem:
        partial.unlink(missing_ok=True)
        raise ValidationError({"PATH": f"the copy failed its integrity check: {problem}"})
    os.replace(partial, destination)
    return destination.stat().st_size


def restore_database(*, backup: Path) -> None:
    """Put `backup` back as the live database, in one write transaction: running processes
    see the old data or the restored data, never a mix."""
    if not backup.is_file():
        raise ValidationError({"PATH": f"{backup}: no such file"})
    try:
        with connect(backup) as copy:
            problem = integrity_problem(copy)
            if (
                not problem
                and not copy.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'django_migrations'"
                ).fetchone()
            ):
                problem = "it is not a touchbase database (no django_migrations table)"
    except sqlite3.DatabaseError as error:
        problem = f"it is not a SQLite database ({error})"
    if problem:
        raise ValidationError({"PATH": f"{backup}: {problem}"})
    with connect(backup) as copy, connect(sqlite_path()) as live:
        copy.backup(live)
    copy.close()
    live.close()


def integrity_problem(connection: sqlite3.Connection) -> str:
    result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    return "" if result == "ok" else result
