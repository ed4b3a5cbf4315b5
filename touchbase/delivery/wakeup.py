"""Waking idle workers when a touch falls due sooner than they planned to wake.

On PostgreSQL a trigger on the delivery table (migration `delivery/0006`) sends
`NOTIFY touchbase_due, '<epoch of the earliest send_after>'` whenever a statement leaves a
delivery pending, whatever wrote it. An idle worker waits on a connection of its own that
LISTENs on that channel; a notice sooner than its planned wake ends the wait. The
connection is opened before the worker looks for its next due touch, so no notice falls
between the look and the wait.

A lost listening connection (a terminated backend, a restart) is closed and reopened at the
next idle wait, and the worker looks at the table at once in case it missed a notice. While
it cannot listen, and on SQLite, or behind PgBouncer's transaction pooling without
a direct `TOUCHBASE_DB_LISTEN_URL`, the worker sleeps the timed sleep.
"""

import contextlib
import logging
import threading
import time

import psycopg
from django.conf import settings
from django.db import connection

from touchbase import clock

logger = logging.getLogger(__name__)

CHANNEL = "touchbase_due"
SLICE_SECONDS = 0.25  # how often a wait looks at the stop event (SIGTERM)


def listen_conninfo() -> dict | None:
    """Where to LISTEN, or None for the timed sleep."""
    url = settings.TOUCHBASE_DB_LISTEN_URL
    if url:
        import dj_database_url

        params = dj_database_url.parse(url)
    elif connection.vendor == "postgresql" and not settings.TOUCHBASE_DB_TRANSACTION_POOLING:
        params = connection.settings_dict
    else:
        return None
    info = {
        "dbname": params["NAME"],
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
        "connect_timeout": 5,
        "application_name": "touchbase worker listener",
    }
    return {key: value for key, value in info.items() if value is not None}


class DueListener:
    def __init__(self, conninfo: dict | None):
        self.conninfo = conninfo
        self.conn: psycopg.Connection | None = None
        self.reconnects = 0

    @property
    def enabled(self) -> bool:
        return self.conninfo is not None

    def prepare(self) -> None:
        """Listen (opening the connection if needed) and forget notices already seen: the
        caller is about to read the next due time from the table itself."""
        if not self.enabled:
            return
        try:
            if self.conn is None or self.conn.closed:
                self.conn = psycopg.connect(**self.conninfo, autocommit=True)
                self.conn.execute(f"LISTEN {CHANNEL}")
                self.reconnects += 1
            for _ in self.conn.notifies(timeout=0):
                pass
        except psycopg.Error as exc:
            logger.warning("cannot listen for due touches (%s); timed sleep", exc)
            self.close()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to `seconds`; True when a touch falls due before then (or on stop)."""
        wake_at = clock.now().timestamp() + seconds
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.conn is None:
                return stop.wait(left)
            try:
                for notice in self.conn.notifies(timeout=min(left, SLICE_SECONDS)):
                    if self.is_sooner(notice.payload, wake_at):
                        return True
            except psycopg.Error as exc:
                # Notices may have been missed: wake, look at the table, listen anew.
                logger.warning("listening connection lost (%s)", exc)
                self.close()
                return True
        return True

    @staticmethod
    def is_sooner(payload: str, wake_at: float) -> bool:
        try:
            due = float(payload)
        except ValueError:
            return True
        return due < wake_at

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None
