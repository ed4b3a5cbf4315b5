"""`touchbase worker`: sends every due touch. Run as many as you like against PostgreSQL."""

import resource
import signal
import threading
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from touchbase import clock
from touchbase.delivery.claiming import next_due_at, reap_expired_leases
from touchbase.delivery.engine import DeliveryEngine
from touchbase.ops.periodic import run_periodic_duties

REAP_EVERY = timedelta(seconds=15)


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process's own address space;
    ru_maxrss would also count what the parent held before exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Send due review-request touches (Ctrl-C / SIGTERM finishes in-flight sends)."

    def add_arguments(self, parser):
        options = settings.TOUCHBASE_WORKER
        parser.add_argument(
            "--once", action="store_true", help="process what is due now, then exit (for cron)"
        )
        parser.add_argument("--batch-size", type=int, default=options["batch_size"])
        parser.add_argument("--concurrency", type=int, default=options["concurrency"])
        parser.add_argument("--lease-seconds", type=int, default=options["lease_seconds"])
        parser.add_argument("--idle-seconds", type=float, default=options["idle_seconds"])

    def handle(self, *args, once, batch_size, concurrency, lease_seconds, idle_seconds, **opts):
        stop = threading.Event()

        def request_stop(signum, frame):
            self.stderr.write("stopping: finishing in-flight sends")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        engine = DeliveryEngine(
            batch_size=batch_size,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            window_spread_minutes=settings.TOUCHBASE_WORKER["window_spread_minutes"],
            stop_event=stop,
        )
        self.stdout.write(f"worker {engine.owner} started")
        # Reap at least twice per lease so a dead worker's rows come back promptly.
        reap_every = min(REAP_EVERY, timedelta(seconds=lease_seconds / 2))
        last_reap = None
        totals = {"claimed": 0}
        while not stop.is_set():
            now = clock.now()
            if last_reap is None or now - last_reap >= reap_every:
                released, uncertain = reap_expired_leases(now=now)
                if released or uncertain:
                    self.stderr.write(f"reaped leases: {released} released, {uncertain} uncertain")
                last_reap = now
            outcome = engine.run_batch()
            run_periodic_duties(wait=once)  # webhooks, digests: off this thread unless --once
            totals["claimed"] += outcome.claimed
            for name, count in outcome.counts.items():
                totals[name] = totals.get(name, 0) + count
            if outcome.claimed == batch_size:
                continue  # more may be due right now
            if once:
                break
            close_old_connections()
            stop.wait(self._idle_time(idle_seconds))
        summary = ", ".join(f"{name} {count}" for name, count in sorted(totals.items()))
        self.stdout.write(
            f"worker {engine.owner} stopped ({summary}; peak memory {peak_memory_mb():.0f} MB)"
        )

    @staticmethod
    def _idle_time(idle_seconds: float) -> float:
        """Sleep until the next touch is due, at most `idle_seconds` (new enrollments and
        re-queued touches are picked up within that)."""
        due = next_due_at()
        if due is None:
            return idle_seconds
        return max(0.05, min(idle_seconds, (due - clock.now()).total_seconds()))
