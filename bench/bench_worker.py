"""The delivery worker's benchmarks (issue: delivery worker), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench

Runs in a throwaway database created next to DATABASE_URL's (dropped at the end) and writes
into bench/results/latest.json:

- engine_vs_naive: deliveries/s of the engine / deliveries/s of the seed's processor design
  (claim 100 rows, then one touch at a time: load its context with separate queries, call
  the provider, commit), both with a zero-latency in-process SMS backend. Goal >= 20.
- engine_vs_floor: the engine / the same at-most-once steps in raw psycopg (bench/floor.py:
  6 statements and 3 commits per 200 deliveries), same data shape. Goal >= 0.5.
- workers_vs_pgbench: 4 engine processes' deliveries/s / `pgbench -c 4` one-row-update
  transactions/s on the same database (bench/parallel.py). Goal >= 1.0.
- deliveries_per_s_at_50ms: one engine against the local HTTP stand-in of Twilio's API
  answering after 50 ms. Goal >= 1,000 (issue 12).
- claim_1m_vs_10k: median time of one claim batch with 1,000,000 pending rows (all but 1,000
  not yet due) / with 10,000. Goal <= 1.5.
- worker_peak_rss_mb: peak memory of a `touchbase worker --once` process over 5,000 sends
  (as the worker reports it).

Every ratio is measured within the same run, on the same database: no absolute time is a
goal, since this machine is noisy.
"""

import os
import re
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")

from bench.scratch import scratch_database  # noqa: E402

NAIVE_ROWS = int(os.environ.get("BENCH_NAIVE_ROWS", "2000"))
FLOOR_ROWS = int(os.environ.get("BENCH_FLOOR_ROWS", "10000"))
PARALLEL_ROWS = int(os.environ.get("BENCH_PARALLEL_ROWS", "20000"))
ENGINE_ROWS = int(os.environ.get("BENCH_ENGINE_ROWS", "10000"))
LATENCY_ROWS = int(os.environ.get("BENCH_LATENCY_ROWS", "3000"))
CLAIM_LARGE = int(os.environ.get("BENCH_CLAIM_ROWS", "1000000"))
LEASE = timedelta(minutes=5)


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def naive_process(transport) -> int:
    """The seed system's processor: claim 100, then one touch at a time."""
    from django.db import transaction

    from touchbase import clock
    from touchbase.campaigns.models import Enrollment, Touch
    from touchbase.customers.models import Customer
    from touchbase.delivery.models import Delivery, DeliveryAttempt
    from touchbase.delivery.rendering import render_delivery
    from touchbase.jobs.models import Job
    from touchbase.tenancy.models import Business

    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                Delivery.objects.filter(status="pending", send_after__lte=clock.now())
                .order_by("send_after")
                .values_list("pk", flat=True)[:100]
            )
            Delivery.objects.filter(pk__in=ids).update(
                status="claimed", lease_owner="naive", lease_expires_at=clock.now() + LEASE
            )
        if not ids:
            return done
        for delivery_id in ids:
            delivery = Delivery.objects.get(pk=delivery_id)
            enrollment = Enrollment.objects.get(pk=delivery.enrollment_id)
            enrollment.customer = Customer.objects.get(pk=enrollment.customer_id)
            enrollment.job = Job.objects.get(pk=enrollment.job_id)
            delivery.enrollment = enrollment
            delivery.business = Business.objects.get(pk=delivery.business_id)
            touch = Touch.objects.select_related("template").get(
                campaign_id=enrollment.campaign_id, position=delivery.position
            )
            message = render_delivery(delivery, touch.template, first_sms_of_enrollment=True)
            started = clock.now()
            sent = transport.send(message, idempotency_key=str(delivery.pk))
            with transaction.atomic():
                delivery.status, delivery.sent_at = "sent", clock.now()
                delivery.provider_message_id, delivery.attempts = sent.provider_message_id, 1
                delivery.body_text = message.text
                delivery.save()
                DeliveryAttempt.objects.create(
                    delivery=delivery,
                    number=1,
                    provider="memory",
                    outcome="sent",
                    started_at=started,
                    latency_ms=0,
                )
                following = Touch.objects.filter(
                    campaign_id=enrollment.campaign_id, position=delivery.position + 1
                ).first()
                if following is None:
                    Enrollment.objects.filter(pk=enrollment.pk).update(
                        status="completed", completed_at=clock.now()
                    )
            done += 1


def engine_process(engine) -> int:
    """The engine as the worker runs it (steps of worker.STEP_SECONDS) until nothing is due;
    returns how many it sent."""
    from touchbase.delivery.worker import BATCHES_PER_STEP, STEP_SECONDS

    done = 0
    while True:
        outcome = engine.run_batches(BATCHES_PER_STEP, seconds=STEP_SECONDS)
        done += outcome.counts.get("sent", 0)
        if not outcome.more:
            return done


def claim_median(samples: int = 30) -> float:
    from django.db import transaction

    from touchbase import clock
    from touchbase.delivery.claiming import claim_due

    class Rollback(Exception):
        pass

    times = []
    for _ in range(samples):
        try:
            with transaction.atomic():
                started = time.perf_counter()
                claimed = claim_due(owner="bench", limit=200, lease_seconds=60, now=clock.now())
                times.append(time.perf_counter() - started)
                assert len(claimed) == 200, len(claimed)
                raise Rollback
        except Rollback:
            pass
    return statistics.median(times)


def fill_for_claims(business_id: int, total: int, due: int, first: int) -> None:
    """Pending deliveries `first`..`total` (enrollments without customers, as SQL): `due` of
    them due now, the rest due over the next 30 days."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH new AS (
                INSERT INTO campaigns_enrollment
                    (business_id, status, stop_reason, current_position, manual, enrolled_at)
                SELECT %s, 'completed', '', 1, false, now() FROM generate_series(%s, %s)
                RETURNING id
            )
            INSERT INTO delivery_delivery
                (business_id, enrollment_id, position, channel, scheduled_at, send_after,
                 status, attempts, lease_owner, defer_reason, skip_reason, to_address, subject,
                 body_text, body_html, provider, provider_message_id, receipt_status,
                 error_code, error_message, created_at, updated_at)
            SELECT %s, id, 1, 'sms', due, due, 'pending', 0, '', '', '', '', '', '', '', '',
                   '', '', '', '', now(), now()
            FROM (
                SELECT id,
                       CASE WHEN row_number() OVER (ORDER BY id) <= %s
                            THEN now() - interval '1 minute'
                            ELSE now() + (random() * interval '30 days') + interval '1 hour'
                       END AS due
                FROM new
            ) AS rows
            """,
            [business_id, first, total, business_id, due],
        )


def main() -> None:
    with scratch_database("worker"):
        run()


def run() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from bench.floor import floor_process
    from bench.parallel import engines_rate, pgbench_tps
    from bench.results import record
    from tests.bulk import make_due_deliveries, unthrottled_business
    from touchbase.delivery.backends.sms import MemorySmsTransport
    from touchbase.delivery.backends.twilio import TwilioSmsTransport
    from touchbase.delivery.engine import DeliveryEngine
    from touchbase.delivery.models import Delivery

    call_command("migrate", verbosity=0)
    options = settings.TOUCHBASE_WORKER
    results = {}

    def new_engine(transport) -> DeliveryEngine:
        """An engine as the worker configures it, sending SMS through `transport`."""
        return DeliveryEngine(
            batch_size=options["batch_size"],
            concurrency=options["concurrency"],
            transports={"sms": transport},
        )

    # Peak memory of a real worker process, as it reports it (VmHWM of its own address
    # space): RUSAGE_CHILDREN would include this process's memory, which a child inherits
    # across fork + exec on Linux.
    business = unthrottled_business("Memory")
    make_due_deliveries(business, 5000)
    env = {
        **os.environ,
        "TOUCHBASE_SMS_BACKEND": "memory",
        "TOUCHBASE_LOG_LEVEL": "WARNING",
        # A worker with debug off starts only with an explicit key and hosts.
        "TOUCHBASE_SECRET_KEY": settings.SECRET_KEY,
        "TOUCHBASE_ALLOWED_HOSTS": "localhost",
    }
    worker = subprocess.run(
        [sys.executable, "-m", "touchbase", "worker", "--once"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    results["worker_peak_rss_mb"] = int(re.search(r"peak memory (\d+) MB", worker.stdout)[1])
    print(f"worker peak RSS over 5,000 sends: {results['worker_peak_rss_mb']} MB", flush=True)

    # Engine against the seed's naive loop, same zero-latency backend, same database.
    transport = MemorySmsTransport()
    make_due_deliveries(unthrottled_business("Naive"), NAIVE_ROWS, first_id=10_000)
    naive_s = timed(lambda: naive_process(transport))
    MemorySmsTransport.outbox.clear()
    make_due_deliveries(unthrottled_business("Engine"), ENGINE_ROWS, first_id=20_000)
    engine = new_engine(transport)
    engine_s = timed(lambda: engine_process(engine))
    assert Delivery.objects.filter(status="sent").count() == 5000 + NAIVE_ROWS + ENGINE_ROWS
    naive_rate, engine_rate = NAIVE_ROWS / naive_s, ENGINE_ROWS / engine_s
    results["naive_deliveries_per_s"] = round(naive_rate, 1)
    results["engine_deliveries_per_s"] = round(engine_rate, 1)
    results["engine_vs_naive"] = round(engine_rate / naive_rate, 1)
    print(
        f"naive {naive_rate:.0f}/s, engine {engine_rate:.0f}/s: "
        f"x{results['engine_vs_naive']} (goal >= 20)",
        flush=True,
    )

    # The same steps in raw SQL: the floor the engine's overhead is measured against.
    make_due_deliveries(unthrottled_business("Floor"), FLOOR_ROWS, first_id=60_000)
    floor_s = timed(lambda: floor_process(os.environ["DATABASE_URL"]))
    assert (
        Delivery.objects.filter(status="sent").count()
        == 5000 + NAIVE_ROWS + ENGINE_ROWS + FLOOR_ROWS
    )
    floor_rate = FLOOR_ROWS / floor_s
    results["floor_deliveries_per_s"] = round(floor_rate, 1)
    results["engine_vs_floor"] = round(engine_rate / floor_rate, 2)
    print(
        f"floor {floor_rate:.0f}/s: engine at x{results['engine_vs_floor']} of it (goal >= 0.5)",
        flush=True,
    )

    # Four engine processes against pgbench's one-row updates with four clients.
    make_due_deliveries(unthrottled_business("Parallel"), PARALLEL_ROWS, first_id=80_000)
    parallel_rate, parallel_sent = engines_rate(
        4, lambda: new_engine(MemorySmsTransport()), engine_process
    )
    assert parallel_sent == PARALLEL_ROWS, parallel_sent
    tps = pgbench_tps(os.environ["DATABASE_URL"], connection.pg_version // 10000)
    results["workers_4_deliveries_per_s"] = round(parallel_rate, 1)
    results["pgbench_c4_tps"] = round(tps, 1)
    results["workers_vs_pgbench"] = round(parallel_rate / tps, 2)
    print(
        f"4 workers {parallel_rate:.0f}/s, pgbench -c 4 {tps:.0f} tps: "
        f"x{results['workers_vs_pgbench']} (goal >= 1.0)",
        flush=True,
    )

    # One engine against the HTTP stand-in answering after 50 ms.
    stand_in = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from tests.servers import TwilioStandIn, Behaviour;"
            "s = TwilioStandIn(default=Behaviour(delay=0.05)).start();"
            "print(s.url, flush=True); time.sleep(3600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        stand_in_url = stand_in.stdout.readline().strip()
        make_due_deliveries(unthrottled_business("Latency"), LATENCY_ROWS, first_id=40_000)
        twilio = TwilioSmsTransport(
            account_sid="AC" + "1" * 32,
            auth_token="secret",
            from_number="+13055550100",
            api_base_url=stand_in_url,
            timeout=10,
        )
        engine = new_engine(twilio)
        latency_s = timed(lambda: engine_process(engine))
    finally:
        stand_in.kill()
        stand_in.wait()
    results["deliveries_per_s_at_50ms"] = round(LATENCY_ROWS / latency_s, 1)
    results["worker_concurrency"] = options["concurrency"]
    print(
        f"at 50 ms provider latency: {results['deliveries_per_s_at_50ms']}/s with "
        f"concurrency {options['concurrency']} (goal >= 1,000, issue 12)",
        flush=True,
    )

    # A claim costs the same with 10,000 or 1,000,000 pending rows.
    Delivery.objects.all().delete()
    claims = unthrottled_business("Claims")
    fill_for_claims(claims.pk, 10_000, 1_000, 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE delivery_delivery")
    small = claim_median()
    fill_for_claims(claims.pk, CLAIM_LARGE, 0, 10_001)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE delivery_delivery")
    large = claim_median()
    results["claim_10k_ms"] = round(small * 1000, 2)
    results["claim_1m_ms"] = round(large * 1000, 2)
    results["claim_1m_vs_10k"] = round(large / small, 2)
    print(
        f"claim of 200: {small * 1000:.2f} ms at 10k pending, {large * 1000:.2f} ms at "
        f"{CLAIM_LARGE:,}: x{results['claim_1m_vs_10k']} (goal <= 1.5)",
        flush=True,
    )

    record(results)


if __name__ == "__main__":
    main()
