"""Writing webhook events into the outbox, in the caller's transaction.

Each change calls one function at the point where it happens (`emit_event`, or the batch
helpers below). A business without a live endpoint for the type costs one indexed query and
writes nothing (the helpers build no event for it); otherwise one bulk INSERT writes a message
per event and endpoint. The body is serialised once, here, so every retry and replay sends the
same bytes. The engine's record step wraps each of its small transactions in `one_write`:
one endpoint look-up and one INSERT for all the events of that transaction (on PostgreSQL
both inside the record step's own statements: `remember_endpoints`, `take_outbox_insert`).
"""

import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection

from touchbase import clock
from touchbase.webhooks.models import EVENT_TYPES, WebhookEndpoint, WebhookMessage

Event = tuple[int, str, dict]  # (business id, event type, data)
Endpoints = dict[int, list[tuple[int, list]]]  # business id -> [(endpoint id, wanted types)]


def _timestamp(now: datetime) -> str:
    return now.isoformat().replace("+00:00", "Z")


class _Write(threading.local):
    """The transaction `one_write` is gathering on this thread (the engine records on a
    thread and connection of its own beside the one that starts calls)."""

    endpoints: Endpoints | None = None  # every business looked up so far, [] for none
    rows: list[tuple] | None = None
    now: datetime | None = None


_write = _Write()


@contextmanager
def one_write() -> Iterator[None]:
    """Inside the caller's transaction: look up each business's live endpoints once, keep
    the rows of every event emitted within and write them with one INSERT on the way out,
    still inside that transaction (an exception writes nothing)."""
    if _write.rows is not None:  # already gathering: the outer write keeps them
        yield
        return
    _write.endpoints, _write.rows, _write.now = {}, [], None
    try:
        yield
        rows, now = _write.rows, _write.now
    finally:
        _write.endpoints = _write.rows = _write.now = None
    if rows:
        _insert(rows, now)


def live_endpoints(business_ids: set[int]) -> Endpoints:
    """business id -> its live endpoints (empty when none), one query; inside `one_write`
    each business is looked up once per transaction."""
    known = _write.endpoints
    missing = set(business_ids) if known is None else business_ids - known.keys()
    found: Endpoints = {business_id: [] for business_id in missing}
    if missing:
        for business_id, pk, wanted in live_endpoints_query(missing):
            found[business_id].append((pk, wanted))
    if known is None:
        return found
    known.update(found)
    return {business_id: known[business_id] for business_id in business_ids}


def live_endpoints_query(business_ids: set[int]):
    """(business id, endpoint id, wanted types) of those businesses' live endpoints; the
    record step runs it inside its locking statement (record_sql.py)."""
    return WebhookEndpoint.objects.filter(
        business_id__in=business_ids, disabled_at__isnull=True
    ).values_list("business_id", "pk", "events")


def remember_endpoints(found: Endpoints) -> None:
    """Inside `one_write`: those businesses' live endpoints, looked up by the caller."""
    if _write.endpoints is not None:
        _write.endpoints.update(found)


def emit_events(events: Iterable[Event], *, endpoints: Endpoints | None = None) -> int:
    """Queue each event for every live endpoint of its business that wants its type
    (`endpoints`: those businesses' `live_endpoints`, when the caller has them)."""
    events = list(events)
    if not events:
        return 0
    if endpoints is None:
        endpoints = live_endpoints({business_id for business_id, _, _ in events})
    if not any(endpoints.values()):
        return 0
    now = clock.now()
    rows = []
    for business_id, event_type, data in events:
        assert event_type in EVENT_TYPES, event_type
        targets = [
            pk for pk, wanted in endpoints[business_id] if not wanted or event_type in wanted
        ]
        if not targets:
            continue
        body = json.dumps(
            {"type": event_type, "timestamp": _timestamp(now), "data": data},
            separators=(",", ":"),
            default=str,
        )
        message_id = f"msg_{uuid.uuid4().hex}"
        rows.extend((business_id, pk, message_id, event_type, body) for pk in targets)
    if _write.rows is not None:  # one_write inserts them with the rest of its transaction
        _write.rows.extend(rows)
        _write.now = _write.now or now
    else:
        _insert(rows, now)
    return len(rows)


COLUMNS = "business_id, endpoint_id, message_id, event_type, payload"
FIELDS = [name.strip() for name in COLUMNS.split(",")]
MESSAGE_COLUMNS = (
    f"{COLUMNS}, created_at, next_attempt_at, status, attempts, lease_owner, last_error"
)
RECORD = "business_id bigint, endpoint_id bigint, message_id text, event_type text, payload text"


def take_outbox_insert() -> tuple[str, list] | None:
    """Inside `one_write` on PostgreSQL: the INSERT of the events gathered so far, for the
    caller to run within a statement of its own (the record step's); they are then no
    longer written on the way out."""
    rows, now = _write.rows, _write.now
    if not rows:
        return None
    _write.rows, _write.now = [], None
    return _outbox_insert(rows, now)


def _outbox_insert(rows: list[tuple], now: datetime) -> tuple[str, list]:
    """PostgreSQL: the rows travel as one JSON document: encoding text arrays escapes every
    quote of every body in Python and cost more than the rest of the engine's batch."""
    table = connection.ops.quote_name(WebhookMessage._meta.db_table)
    return (
        f"INSERT INTO {table} ({MESSAGE_COLUMNS}) "
        f"SELECT {COLUMNS}, %s, %s, 'pending', 0, '', '' "
        f"FROM json_to_recordset(%s::json) AS r({RECORD})",
        [now, now, json.dumps([dict(zip(FIELDS, row, strict=True)) for row in rows])],
    )


def _insert(rows: list[tuple], now: datetime) -> None:
    """One INSERT for the batch, without building model instances (the engine's hot path)."""
    if not rows:
        return
    table = connection.ops.quote_name(WebhookMessage._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*_outbox_insert(rows, now))
            return
        stamp = connection.ops.adapt_datetimefield_value(now)
        cursor.executemany(
            f"INSERT INTO {table} ({MESSAGE_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending', 0, '', '')",
            [(*row, stamp, stamp) for row in rows],
        )


def emit_event(*, business_id: int, type: str, data: dict) -> int:
    return emit_events([(business_id, type, data)])


# --- the product's events, from the objects at hand ---------------------------------------


def _external_ids(enrollments) -> dict[int, str]:
    """job id -> external id; from the loaded jobs where the caller has them, else one query."""
    from touchbase.jobs.models import Job

    known, missing = {}, set()
    for enrollment in enrollments:
        if enrollment.job_id is None:
            continue
        if enrollment.__class__.job.is_cached(enrollment):
            known[enrollment.job_id] = enrollment.job.external_id
        else:
            missing.add(enrollment.job_id)
    if missing:
        known.update(Job.objects.filter(pk__in=missing).values_list("pk", "external_id"))
    return known


def enrollment_data(enrollment, external_ids: dict[int, str]) -> dict:
    return {
        "enrollment_id": enrollment.pk,
        "campaign_id": enrollment.campaign_id,
        "customer_id": enrollment.customer_id,
        "job_id": enrollment.job_id,
        "job_external_id": external_ids.get(enrollment.job_id) or None,
    }


def emit_enrollment_events(enrollments, type: str, **extra) -> int:
    """`enrollment.created` / `.stopped` / `.completed` for enrollment objects or ids."""
    from touchbase.campaigns.models import Enrollment

    enrollments = list(enrollments)
    if enrollments and not isinstance(enrollments[0], Enrollment):
        # Ids: load only those of businesses with a live endpoint (usually none: one query).
        live = WebhookEndpoint.objects.filter(disabled_at__isnull=True).values("business_id")
        enrollments = list(
            Enrollment.objects.filter(pk__in=enrollments, business_id__in=live).select_related(
                "job"
            )
        )
    if not enrollments:
        return 0
    endpoints = live_endpoints({e.business_id for e in enrollments})
    enrollments = [e for e in enrollments if endpoints[e.business_id]]
    external_ids = _external_ids(enrollments)
    return emit_events(
        ((e.business_id, type, {**enrollment_data(e, external_ids), **extra}) for e in enrollments),
        endpoints=endpoints,
    )


DELIVERY_EVENTS = {
    "sent": "delivery.sent",
    "failed": "delivery.failed",
    "uncertain": "delivery.uncertain",
}


def delivery_data(delivery, external_ids: dict[int, str]) -> dict:
    data = {
        "delivery_id": delivery.pk,
        "channel": delivery.channel,
        "position": delivery.position,
        **enrollment_data(delivery.enrollment, external_ids),
    }
    if delivery.error_code:
        data["error_code"] = delivery.error_code
    return data


def emit_delivery_events(deliveries, type: str | None = None, **extra) -> int:
    """`delivery.sent` / `.failed` / `.uncertain` for a batch of deliveries (their enrollment
    loaded); `type` None: from each delivery's status, other statuses emit nothing. Events
    about one message (`review_link.clicked`, `feedback.received`) name their type."""
    chosen = [
        (delivery, type or DELIVERY_EVENTS[delivery.status])
        for delivery in deliveries
        if type or delivery.status in DELIVERY_EVENTS
    ]
    if not chosen:
        return 0
    endpoints = live_endpoints({delivery.business_id for delivery, _ in chosen})
    chosen = [
        (delivery, event_type) for delivery, event_type in chosen if endpoints[delivery.business_id]
    ]
    external_ids = _external_ids(delivery.enrollment for delivery, _ in chosen)
    return emit_events(
        (
            (delivery.business_id, event_type, {**delivery_data(delivery, external_ids), **extra})
            for delivery, event_type in chosen
        ),
        endpoints=endpoints,
    )


def emit_opt_out(customer, channel: str, source: str) -> int:
    return emit_event(
        business_id=customer.business_id,
        type="customer.opted_out",
        data={"customer_id": customer.pk, "channel": channel, "source": str(source)},
    )


def emit_reply(message) -> int:
    """`reply.received`: a text that is not a keyword, for the business it answers."""
    if message.business_id is None:
        return 0
    return emit_event(
        business_id=message.business_id,
        type="reply.received",
        data={
            "inbound_sms_id": message.pk,
            "customer_id": message.customer_id,
            "from": message.from_number,
            "body": message.body,
            "needs_attention": message.needs_attention,
        },
    )
