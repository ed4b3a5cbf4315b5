"""What the webhook outbox costs the delivery engine, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench

- webhook_outbox_overhead: engine time with an endpoint registered (every send and
  completion writes its events, `delivery.sent` and `enrollment.completed`, into the
  outbox) / engine time without one, minus 1: the median over rounds of the ratio of two
  adjacent runs (their order alternates), same database and backend. Goal <= 0.10.
- webhook_emit_share: of the engine's time with an endpoint, the share spent inside
  `emit_events`, the endpoint look-up and the outbox INSERT (timed around the calls): the
  same cost measured without a second run, so it is far less exposed to a noisy machine.
- webhook_messages_per_s: one delivery pass after another against a local receiver
  (reported; the receiver answers at once).
"""

import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "touchbase.settings")

from bench.scratch import scratch_database  # noqa: E402

ROWS = int(os.environ.get("BENCH_WEBHOOK_ROWS", "1500"))
ROUNDS = int(os.environ.get("BENCH_WEBHOOK_ROUNDS", "8"))


def main() -> None:
    with scratch_database("webhooks"):
        run()


def engine_seconds(with_endpoint: bool, n: int) -> float:
    from bench.bench_worker import engine_process
    from tests.bulk import make_due_deliveries, unthrottled_business
    from touchbase.clock import now
    from touchbase.delivery.backends.sms import MemorySmsTransport
    from touchbase.delivery.engine import DeliveryEngine
    from touchbase.webhooks.models import WebhookEndpoint
    from touchbase.webhooks.services import new_secret

    business = unthrottled_business(f"Webhooks {with_endpoint} {n}")
    if with_endpoint:
        WebhookEndpoint.objects.create(
            business=business, url="https://example.com/hook", secret=new_secret(), created_at=now()
        )
    make_due_deliveries(business, ROWS, first_id=100_000 * (n + 1))
    MemorySmsTransport.outbox.clear()
    engine = DeliveryEngine(
        batch_size=200, concurrency=32, transports={"sms": MemorySmsTransport()}
    )
    started = time.perf_counter()
    sent = engine_process(engine)
    elapsed = time.perf_counter() - started
    assert sent == ROWS, sent
    return elapsed


def run() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    from bench.results import record
    from tests.servers import WebhookReceiver
    from touchbase.webhooks.models import WebhookEndpoint, WebhookMessage
    from touchbase.webhooks.sending import deliver_due

    call_command("migrate", verbosity=0)
    WebhookMessage.objects.all().delete()  # a fresh scratch database has none anyway
    import touchbase.webhooks.events as events

    emitting = [0.0]
    depth = threading.local()
    emit_events, insert = events.emit_events, events._insert

    def timed(function):
        """Time the outermost call only: `emit_events` inserts itself outside the record
        step, and `one_write` inserts a transaction's rows with `_insert` on its way out."""

        def timed_call(*args, **kwargs):
            if getattr(depth, "inside", False):
                return function(*args, **kwargs)
            depth.inside, started = True, time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                depth.inside = False
                emitting[0] += time.perf_counter() - started

        return timed_call

    # The helpers call these through the module (they look up endpoints before building).
    look_up = events.live_endpoints
    events.emit_events, events._insert = timed(emit_events), timed(insert)
    events.live_endpoints = timed(look_up)
    engine_seconds(False, 99)  # warm up caches and the connection
    without, with_endpoint, ratios = [], [], []
    emitting_with = 0.0
    for n in range(ROUNDS):  # alternate which goes first: the database grows as we go
        pair = {}
        for endpoint in (False, True) if n % 2 == 0 else (True, False):
            emitted_before = emitting[0]
            pair[endpoint] = engine_seconds(endpoint, 2 * n + endpoint)
            if endpoint:
                emitting_with += emitting[0] - emitted_before
        without.append(pair[False])
        with_endpoint.append(pair[True])
        ratios.append(pair[True] / pair[False])
    events.emit_events, events._insert = emit_events, insert
    events.live_endpoints = look_up
    base, outbox = statistics.median(without), statistics.median(with_endpoint)
    results = {
        "webhook_engine_without_s": round(base, 3),
        "webhook_engine_with_s": round(outbox, 3),
        "webhook_outbox_overhead": round(statistics.median(ratios) - 1, 3),
        "webhook_emit_share": round(emitting_with / sum(with_endpoint), 3),
    }
    print(
        f"engine over {ROWS:,} sends: median {base:.2f} s without an endpoint, {outbox:.2f} s "
        f"with one; paired overhead +{results['webhook_outbox_overhead']:.1%} (goal <= 10%); "
        f"time inside emit_events: {results['webhook_emit_share']:.1%} of the runs with one",
        flush=True,
    )
    queued = WebhookMessage.objects.count()
    assert queued == 2 * ROWS * ROUNDS, queued  # a sent and a completed event per send

    receiver = WebhookReceiver().start()
    try:
        WebhookMessage.objects.update(
            next_attempt_at=WebhookMessage.objects.order_by().first().created_at
        )
        from touchbase.webhooks.models import WebhookEndpoint

        WebhookEndpoint.objects.update(url=receiver.url)
        sample = 1000
        keep = list(WebhookMessage.objects.order_by("pk").values_list("pk", flat=True)[:sample])
        WebhookMessage.objects.exclude(pk__in=keep).delete()
        options = {"allow_private": True, "timeout_seconds": 5, "per_pass": 50, "concurrency": 8}
        with override_settings(TOUCHBASE_WEBHOOKS=options):
            started = time.perf_counter()
            while deliver_due():
                pass
            elapsed = time.perf_counter() - started
        assert len(receiver.requests) == sample, len(receiver.requests)
    finally:
        receiver.stop()
    results["webhook_messages_per_s"] = round(sample / elapsed, 1)
    print(f"webhook delivery: {results['webhook_messages_per_s']}/s to a local receiver")
    record(results)


if __name__ == "__main__":
    main()
