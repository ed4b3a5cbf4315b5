"""Where the engine's time goes: cProfile over N deliveries, zero-latency SMS backend.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/profile_engine.py

Not part of `make bench` (a profile is for reading, not a figure). Prints the top functions
by own and cumulative time, the statements per batch and the ORM objects built per delivery.
"""

import cProfile
import os
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")
os.environ.setdefault("TOUCHBASE_LOG_LEVEL", "WARNING")

from bench.scratch import scratch_database  # noqa: E402

ROWS = int(os.environ.get("BENCH_PROFILE_ROWS", "4000"))


def run() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.bench_worker import engine_process
    from tests.bulk import make_due_deliveries, unthrottled_business
    from touchbase.delivery.backends.sms import MemorySmsTransport
    from touchbase.delivery.engine import DeliveryEngine

    call_command("migrate", verbosity=0)
    make_due_deliveries(unthrottled_business("Profile"), ROWS)
    engine = DeliveryEngine(batch_size=200, concurrency=1, transports={"sms": MemorySmsTransport()})
    # One batch under a query counter (statements and commits per batch), then the profile.
    with CaptureQueriesContext(connection) as queries:
        engine.run_batch()
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    print(f"one batch of 200: {len(statements)} statements: {statements}")
    profile = cProfile.Profile()
    profile.enable()
    sent = engine_process(engine)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    print(
        f"{sent} deliveries in {total:.2f} s under the profiler: {total / sent * 1e3:.3f} ms each"
    )
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("cumulative").print_stats("touchbase/", 30)
    inits = [
        values[1]
        for func, values in stats.stats.items()
        if func[2] == "__init__" and "django/db/models/base.py" in func[0]
    ]
    for calls in inits:
        print(f"Model.__init__: {calls} calls, {calls / sent:.1f} per delivery")


def main() -> None:
    with scratch_database("profile"):
        run()


if __name__ == "__main__":
    main()
