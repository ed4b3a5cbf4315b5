"""Surviving a lost database: a dropped connection, a terminated backend, a restart.

A worker that meets a connection error closes the broken connection (Django opens a fresh
one on the next query), waits a little longer each time, bounded, says so in the log and
tries again. Nothing here knows about deliveries: the engine and the worker loop decide
what is safe to retry.
"""

import contextlib
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a lost or restarting database raises (psycopg's "server closed the connection",
# "terminating connection due to administrator command", "connection refused"; SQLite's
# "database is locked" is worth the same patience).
CONNECTION_ERRORS = (OperationalError, InterfaceError)

# Long enough to outlive a PostgreSQL restart or failover, short enough that a worker whose
# database is gone for good gives up on a batch and lets the reaper settle it.
RETRY_BUDGET_SECONDS = 300.0


class Backoff:
    """0.2 s, 0.4 s, 0.8 s ... at most `cap`; `reset()` after a success."""

    def __init__(self, first: float = 0.2, cap: float = 10.0):
        self.first, self.cap, self.failures = first, cap, 0

    def next_delay(self) -> float:
        self.failures += 1
        return min(self.cap, self.first * 2 ** (self.failures - 1))

    def reset(self) -> None:
        self.failures = 0


def reset_connection() -> None:
    """Drop this thread's database connection; the next query opens a new one."""
    with contextlib.suppress(Exception):  # it is already broken: closing is best effort
        connection.close()


def retry_database(
    action: Callable[[], T], *, what: str, budget_seconds: float = RETRY_BUDGET_SECONDS
) -> T:
    """Run `action` (one whole transaction: safe to repeat) until it gets through a
    connection error, or re-raise once the budget is spent."""
    backoff = Backoff()
    deadline = time.monotonic() + budget_seconds
    while True:
        try:
            return action()
        except CONNECTION_ERRORS as exc:
            reset_connection()
            delay = backoff.next_delay()
            if time.monotonic() + delay > deadline:
                logger.error("database still unavailable while %s, giving up: %s", what, exc)
                raise
            logger.warning(
                "database unavailable while %s (%s); retry %d in %.1f s",
                what,
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                backoff.failures,
                delay,
            )
            time.sleep(delay)
