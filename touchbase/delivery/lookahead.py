"""Deciding the next batch while the one before is being sent (the worker's `run_batches`).

A batch's calls wait on a provider; deciding the next one waits on the engine's rules and the
database. One after the other, the calls stop while a batch is decided and the deciding waits
for the last answers. On PostgreSQL a thread with a database connection of its own claims and
decides the next batch as soon as no more than a batch's rows wait for a call (`ask`), and
hands it over (`take`); the sending loop's slots stay full across batches. (Asked only when
the loop was about to run short, the next batch came too late at zero latency: a group of
calls took less time than deciding a batch.)

So two batches' rows at most wait for a call, and a decided row waits for at most about
two batches' calls ahead of it: the lease rule in the README (lease above 2 x batch /
concurrency x provider timeout) holds. Each
batch is claimed and decided in its own transaction, committed before its rows are handed
over, so the rules of the next batch see every row of the one before as `sending`
(recipient caps, texted enrollments, the throttle's saved slots) exactly as when batches
ran one after the other.
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

logger = logging.getLogger(__name__)


@dataclass
class DecidedBatch:
    """One claimed and decided batch: its sends wait for slots (sending.py)."""

    claimed: int
    sends: list
    touches: dict
    counts: Counter = field(default_factory=Counter)
    full: bool = False  # as many claimed as asked for: more may be due right now


class Lookahead:
    def __init__(
        self,
        decide: Callable[[], DecidedBatch],
        *,
        most: int,
        stop: threading.Event,
        until: float | None = None,
    ):
        """`decide()` claims and decides one batch (on this object's thread and connection);
        at most `most` batches, none once `stop` is set, a batch comes back not full or the
        monotonic clock passes `until`."""
        self.decide, self.most, self.stop, self.until = decide, most, stop, until
        self.claimed, self.counts, self.batches = 0, Counter(), 0
        self.full = True  # made after a full claim: until it claims, more may be due
        self.error: Exception | None = None
        self.ready: DecidedBatch | None = None
        self.wanted = self.deciding = self.finished = self.closing = False
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="lookahead", daemon=True)
        self.thread.start()

    def ask(self) -> None:
        """The sending loop is running short: decide the next batch now, unless one is
        being decided or waits to be taken."""
        with self.changed:
            if not (self.finished or self.deciding or self.ready):
                self.wanted = True
                self.changed.notify_all()

    def take(self, *, block: bool) -> DecidedBatch | None:
        """The batch decided ahead, if any; blocking, waits for it (asking for it first)
        unless no more will come."""
        if block:
            self.ask()
        with self.changed:
            while block and self.ready is None and not self.finished:
                self.changed.wait()
            ready, self.ready = self.ready, None
            return ready

    def close(self) -> DecidedBatch | None:
        """Stop deciding; returns a batch decided but never taken (its rows to release)."""
        with self.changed:
            self.closing = True
            self.changed.notify_all()
        self.thread.join()
        ready, self.ready = self.ready, None
        return ready

    def _run(self) -> None:
        try:
            while self._wait_until_wanted():
                try:
                    batch = self.decide()
                except Exception as exc:  # the caller raises it once the batch before is sent
                    self.error, batch = exc, None
                with self.changed:
                    self.deciding = False
                    if batch is not None:
                        self.batches += 1
                        self.claimed += batch.claimed
                        self.counts.update(batch.counts)
                        self.full = batch.full
                        if batch.sends:
                            self.ready = batch
                    self.finished = batch is None or not batch.full or self.batches >= self.most
                    if not self.finished and self.ready is None:
                        self.wanted = True  # nothing to send in it: the loop still waits
                    self.changed.notify_all()
                    if self.finished:
                        return
        finally:
            with self.changed:
                self.finished = True
                self.changed.notify_all()
            connection.close()  # this thread's own connection

    def _wait_until_wanted(self) -> bool:
        with self.changed:
            while not self.wanted and not self.closing:
                self.changed.wait()
            self.wanted = False
            late = self.until is not None and time.monotonic() >= self.until
            self.deciding = not (self.closing or self.stop.is_set() or late)
            return self.deciding
