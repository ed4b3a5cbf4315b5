"""The worker loop: reap, run batches back to back for a few seconds, sleep until the next
touch is due; forever.

Nothing one batch does stops the loop: an exception (a lost database, a bug) is logged, the
loop waits a little longer each time (bounded) and carries on; the database connection is
dropped first so the next query opens a fresh one.
"""

import logging
import threading
from collections import Counter
from datetime import timedelta

from django.db import close_old_connections

from touchbase import clock
from touchbase.delivery.claiming import next_due_at, reap_expired_leases
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.resilience import CONNECTION_ERRORS, Backoff, reset_connection
from touchbase.delivery.wakeup import DueListener, listen_conninfo
from touchbase.ops.heartbeats import record_heartbeat
from touchbase.ops.periodic import run_periodic_duties

logger = logging.getLogger(__name__)

REAP_EVERY = timedelta(seconds=15)
# Batches run back to back, each decided while the one before is sent (engine.run_batches),
# between two heartbeats: no batch is claimed after STEP_SECONDS. Each step's first batch is
# decided with no calls in flight and its last calls end with no batch waiting, so a step of
# 5 batches lost 6-10% of the throughput that longer steps keep.
BATCHES_PER_STEP = 100
STEP_SECONDS = 4.0


class Worker:
    def __init__(self, engine: DeliveryEngine, *, idle_seconds: float, once: bool = False):
        self.engine = engine
        self.idle_seconds = idle_seconds
        self.once = once
        self.stop: threading.Event = engine.stop_event
        # Reap at least twice per lease so a dead worker's rows come back promptly.
        self.reap_every = min(REAP_EVERY, engine.lease / 2)
        self.last_reap = None
        self.totals: Counter = Counter()
        self.backoff = Backoff(first=0.5, cap=10.0)
        self.listener = DueListener(None if once else listen_conninfo())

    def run(self) -> Counter:
        try:
            return self.loop()
        finally:
            self.listener.close()
            self.engine.close()  # its provider calls' loop and sessions

    def loop(self) -> Counter:
        while not self.stop.is_set():
            try:
                more = self.step()
            except Exception as exc:
                self.totals["batch_errors"] += 1
                delay = self.backoff.next_delay()
                if isinstance(exc, CONNECTION_ERRORS):
                    reset_connection()
                    logger.warning("database unavailable (%s); retrying in %.1f s", exc, delay)
                else:
                    logger.exception("batch failed; retrying in %.1f s", delay)
                if self.once:
                    break
                self.stop.wait(delay)
                continue
            self.backoff.reset()
            if more:
                continue  # more may be due right now
            if self.once:
                break
            self.listener.prepare()  # before the look at the table: no notice falls between
            self.listener.wait(self.idle_time(), self.stop)
        return self.totals

    def step(self) -> bool:
        """Reap when due, then batches back to back for a few seconds; returns whether more
        may be due right now (the last claim was full)."""
        now = clock.now()
        record_heartbeat(owner=self.engine.owner, now=now)
        if self.last_reap is None or now - self.last_reap >= self.reap_every:
            released, uncertain = reap_expired_leases(now=now)
            if released or uncertain:
                logger.warning("reaped leases: %d released, %d uncertain", released, uncertain)
            self.last_reap = now
        outcome = self.engine.run_batches(BATCHES_PER_STEP, seconds=STEP_SECONDS)
        run_periodic_duties(wait=self.once)  # webhooks, digests: off this thread unless --once
        self.totals["claimed"] += outcome.claimed
        self.totals.update(outcome.counts)
        return outcome.more

    def idle_time(self) -> float:
        """Sleep until the next touch is due, at most `idle_seconds`. On PostgreSQL a touch
        falling due sooner (enrollment, retry, resume, re-queue) ends the sleep early
        (`wakeup.py`); elsewhere it is picked up within `idle_seconds`."""
        try:
            close_old_connections()
            due = next_due_at()
        except CONNECTION_ERRORS:
            reset_connection()  # the next step meets the outage and backs off
            return self.idle_seconds
        if due is None:
            return self.idle_seconds
        return max(0.05, min(self.idle_seconds, (due - clock.now()).total_seconds()))
