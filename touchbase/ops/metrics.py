"""The Prometheus metrics at /metrics, read from the database at scrape time.

Every web process answers the same numbers (they come from the tables the engine writes, not
from one process's memory), so any process can be scraped. What one scrape costs as the data
grows (README, "Observability"):

- touchbase_deliveries: GROUP BY over every delivery; grows with the delivery table.
- touchbase_enrollments: GROUP BY over every enrollment; grows with enrollments.
- touchbase_due_deliveries, touchbase_oldest_due_delivery_age_seconds: the claim index
  (pending rows only); grows with the backlog.
- touchbase_recent_provider_attempts, touchbase_provider_latency_seconds: a range of the
  attempt-time index; grows with the sends of the last 15 minutes, not with history.
- touchbase_worker_heartbeat_age_seconds: one row per worker seen in the last day.
"""

from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, Sum
from prometheus_client.core import CollectorRegistry, GaugeHistogramMetricFamily, GaugeMetricFamily

from touchbase import clock
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.ops.models import WorkerHeartbeat

WINDOW = timedelta(minutes=15)
# Provider call latency buckets, in seconds (Twilio answers in ~0.1-0.5 s, SMTP varies).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def oldest_due(now: datetime) -> tuple[int, datetime | None]:
    """How many pending touches are due, and since when the oldest one (the claim index)."""
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, send_after__lte=now)
    found = due.aggregate(count=Count("id"), oldest=Min("send_after"))
    return found["count"], found["oldest"]


def last_heartbeats() -> dict[str, datetime]:
    return dict(WorkerHeartbeat.objects.values_list("owner", "seen_at"))


class TouchbaseCollector:
    def collect(self):
        now = clock.now()
        yield self.deliveries()
        yield from self.backlog(now)
        yield from self.provider_attempts(now)
        yield from self.workers(now)
        yield self.enrollments()

    def deliveries(self):
        metric = GaugeMetricFamily(
            "touchbase_deliveries",
            "Deliveries by status and channel.",
            labels=["status", "channel"],
        )
        rows = Delivery.objects.values_list("status", "channel").annotate(n=Count("id"))
        for status, channel, count in rows.order_by():
            metric.add_metric([status, channel], count)
        return metric

    def backlog(self, now: datetime):
        count, oldest = oldest_due(now)
        yield GaugeMetricFamily(
            "touchbase_due_deliveries", "Pending touches whose time has come.", value=count
        )
        age = (now - oldest).total_seconds() if oldest else 0
        yield GaugeMetricFamily(
            "touchbase_oldest_due_delivery_age_seconds",
            "How long the oldest due touch has waited (0 when nothing is due).",
            value=max(0.0, age),
        )

    def provider_attempts(self, now: datetime):
        recent = DeliveryAttempt.objects.filter(started_at__gt=now - WINDOW).order_by()
        window = f"last {int(WINDOW.total_seconds())} s"
        attempts = GaugeMetricFamily(
            "touchbase_recent_provider_attempts",
            f"Provider calls in the {window}, by outcome (sent, transient, permanent, unknown = "
            "uncertain) and the provider's error code.",
            labels=["provider", "outcome", "error_code"],
        )
        rows = recent.values_list("provider", "outcome", "error_code").annotate(n=Count("id"))
        for provider, outcome, error_code, count in rows:
            attempts.add_metric([provider, outcome, error_code], count)
        yield attempts
        latency = GaugeHistogramMetricFamily(
            "touchbase_provider_latency_seconds",
            f"Provider call latency in the {window}.",
            labels=["provider"],
        )
        buckets = {
            f"le_{i}": Count("id", filter=Q(latency_ms__lte=bound * 1000))
            for i, bound in enumerate(LATENCY_BUCKETS)
        }
        rows = recent.values("provider").annotate(
            total=Count("id"), total_ms=Sum("latency_ms"), **buckets
        )
        for row in rows:
            counts = [(str(b), row[f"le_{i}"]) for i, b in enumerate(LATENCY_BUCKETS)]
            latency.add_metric(
                [row["provider"]],
                [*counts, ("+Inf", row["total"])],
                gsum_value=(row["total_ms"] or 0) / 1000,
            )
        yield latency

    def workers(self, now: datetime):
        age = GaugeMetricFamily(
            "touchbase_worker_heartbeat_age_seconds",
            "Seconds since each worker (seen in the last day) last reported.",
            labels=["worker"],
        )
        for owner, seen_at in sorted(last_heartbeats().items()):
            age.add_metric([owner], max(0.0, (now - seen_at).total_seconds()))
        yield age

    def enrollments(self):
        metric = GaugeMetricFamily(
            "touchbase_enrollments",
            "Enrollments by status and stop reason (the outcome of each sequence).",
            labels=["status", "stop_reason"],
        )
        rows = Enrollment.objects.values_list("status", "stop_reason").annotate(n=Count("id"))
        for status, reason, count in rows.order_by():
            metric.add_metric([status, reason], count)
        return metric


registry = CollectorRegistry(auto_describe=False)
registry.register(TouchbaseCollector())
