"""`touchbase worker`: sends every due touch. Run as many as you like against PostgreSQL."""

import resource
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.worker import Worker


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
            stop_event=stop,
        )
        self.stdout.write(f"worker {engine.owner} started")
        totals = Worker(engine, idle_seconds=idle_seconds, once=once).run()
        summary = ", ".join(f"{name} {count}" for name, count in sorted(totals.items()))
        self.stdout.write(
            f"worker {engine.owner} stopped ({summary}; peak memory {peak_memory_mb():.0f} MB)"
        )
