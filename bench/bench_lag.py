"""Scheduling lag at 50% load, including a cold start (issue 14), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_lag.py

1. Capacity: one warm `touchbase worker` (zero-latency SMS backend) drains a backlog of
   BENCH_LAG_BACKLOG due touches; its deliveries/s is this run's capacity.
2. Load: a fresh worker process is started (cold: a new interpreter, empty caches, a first
   connection) and, from the moment it has reported its first heartbeat, touches fall due
   at half that capacity for BENCH_LAG_SECONDS, inserted due at once in small groups every
   250 ms, as enrollments arrive (the rate reached is reported: `lag_load_per_s`).
3. lag_p99_s: the 99th percentile, over every touch of step 2, of the call's start
   (`sent_at`) minus the moment the touch fell due (`send_after`, or its row's `created_at`
   when written later). Goal <= 1 s. A worker that only slept its timed sleep
   (TOUCHBASE_WORKER_IDLE_SECONDS, 5 s) lags up to that long; LISTEN/NOTIFY
   (delivery/wakeup.py) wakes it as they arrive. `lag_worker_start_s` is how long the cold
   process took to its first heartbeat (not in the lag: touches enrolled before any worker
   runs wait for one whatever the design).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")

from bench.scratch import scratch_database  # noqa: E402

BACKLOG = int(os.environ.get("BENCH_LAG_BACKLOG", "3000"))
SECONDS = float(os.environ.get("BENCH_LAG_SECONDS", "30"))
TICK = 0.25


def main() -> None:
    with scratch_database("lag"):
        run()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.results import record
    from tests.bulk import make_due_deliveries, unthrottled_business
    from touchbase import clock
    from touchbase.delivery.models import Delivery
    from touchbase.ops.models import WorkerHeartbeat

    call_command("migrate", verbosity=0)
    env = {
        **os.environ,
        "TOUCHBASE_SMS_BACKEND": "memory",
        "TOUCHBASE_LOG_LEVEL": "WARNING",
        "TOUCHBASE_SECRET_KEY": settings.SECRET_KEY,
        "TOUCHBASE_ALLOWED_HOSTS": "localhost",
    }
    business = unthrottled_business("Lag")
    first_id = 0

    starts = []

    def start_worker() -> subprocess.Popen:
        WorkerHeartbeat.objects.all().delete()
        launched = time.monotonic()
        worker = subprocess.Popen(
            [sys.executable, "-m", "touchbase", "worker"], env=env, stdout=subprocess.DEVNULL
        )
        while not WorkerHeartbeat.objects.exists():
            time.sleep(0.01)
        starts.append(time.monotonic() - launched)
        return worker

    def stop(worker: subprocess.Popen) -> None:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)

    def pending() -> int:
        return Delivery.objects.filter(status__in=["pending", "claimed", "sending"]).count()

    # 1. Capacity of one warm worker.
    worker = start_worker()
    time.sleep(1.0)
    make_due_deliveries(business, BACKLOG, due_at=clock.now())
    first_id += BACKLOG
    started = time.monotonic()
    while pending():
        time.sleep(0.02)
    capacity = BACKLOG / (time.monotonic() - started)
    stop(worker)
    print(f"capacity of one worker: {capacity:.0f} deliveries/s", flush=True)

    # 2. Half that load on a cold worker.
    rate = capacity / 2
    worker = start_worker()
    loaded_from = Delivery.objects.order_by("-pk").values_list("pk", flat=True).first()
    began, owed = time.monotonic(), 0.0
    while time.monotonic() - began < SECONDS:
        owed += rate * TICK
        count = int(owed)
        if count:
            make_due_deliveries(business, count, due_at=clock.now(), first_id=first_id)
            first_id, owed = first_id + count, owed - count
        time.sleep(max(0.0, TICK - (time.monotonic() - began) % TICK))
    deadline = time.monotonic() + 60
    while pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop(worker)

    # 3. Lag of every touch of step 2.
    rows = Delivery.objects.filter(pk__gt=loaded_from, status="sent")
    times = rows.values_list("sent_at", "send_after", "created_at")
    lags = [(sent - max(due, created)).total_seconds() for sent, due, created in times]
    offered = len(lags) / SECONDS
    results = {
        "lag_p99_s": round(percentile(lags, 0.99), 3),
        "lag_p50_s": round(percentile(lags, 0.50), 3),
        "lag_max_s": round(max(lags), 3),
        "lag_load_per_s": round(offered, 1),
        "lag_capacity_per_s": round(capacity, 1),
        "lag_worker_start_s": round(starts[-1], 2),
    }
    print(
        f"{len(lags)} touches at {offered:.0f}/s (aimed at {rate:.0f}/s, 50%), cold worker "
        f"(up in {results['lag_worker_start_s']} s): lag p50 {results['lag_p50_s']} s, "
        f"p99 {results['lag_p99_s']} s, max {results['lag_max_s']} s",
        flush=True,
    )
    record(results)


if __name__ == "__main__":
    main()
