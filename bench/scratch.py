"""A throwaway PostgreSQL database for one benchmark, next to DATABASE_URL's."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """Create `touchbase_bench_<label>_<pid>`, point DATABASE_URL at it, drop it afterwards."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        sys.exit(f"bench_{label} needs PostgreSQL: DATABASE_URL=postgres://... make bench")
    name = f"touchbase_bench_{label}_{os.getpid()}"
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    _admin(maintenance, f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{name}"))
    try:
        yield name
    finally:
        from django.db import connections

        connections.close_all()
        _admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
