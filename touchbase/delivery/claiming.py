"""Claiming due deliveries with leases, and reaping leases whose worker died.

A worker owns a delivery only through its lease (owner + expiry). Claiming is one
statement, so two workers never claim the same row and a claim never exceeds its limit:
on PostgreSQL a CTE selects the due rows `FOR UPDATE SKIP LOCKED` (a concurrent worker skips
them instead of waiting) and the UPDATE joins on it; on SQLite the same UPDATE runs inside a
`BEGIN IMMEDIATE` transaction, which holds the database's single write lock.
Both read only the partial index `delivery_due (send_after) WHERE status = 'pending'`, so
the cost of a claim depends on the batch size, not on the size of the table.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet

from touchbase.delivery.models import Delivery, DeliveryStatus

TABLE = Delivery._meta.db_table

CLAIM_POSTGRESQL = f"""
WITH due AS (
    SELECT id FROM {TABLE}
    WHERE status = 'pending' AND send_after <= %s
    ORDER BY send_after
    LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE {TABLE} AS delivery
SET status = 'claimed', lease_owner = %s, lease_expires_at = %s, updated_at = %s
FROM due
WHERE delivery.id = due.id
RETURNING delivery.id
"""

CLAIM_SQLITE = f"""
UPDATE {TABLE}
SET status = 'claimed', lease_owner = %s, lease_expires_at = %s, updated_at = %s
WHERE id IN (
    SELECT id FROM {TABLE}
    WHERE status = 'pending' AND send_after <= %s
    ORDER BY send_after
    LIMIT %s
)
RETURNING id
"""


def claim_due(*, owner: str, limit: int, lease_seconds: int, now: datetime) -> list[int]:
    """Claim up to `limit` due deliveries, oldest first; returns their ids."""
    adapt = connection.ops.adapt_datetimefield_value
    expires = adapt(now + timedelta(seconds=lease_seconds))
    if connection.vendor == "postgresql":
        sql, params = CLAIM_POSTGRESQL, [adapt(now), limit, owner, expires, adapt(now)]
    else:
        sql, params = CLAIM_SQLITE, [owner, expires, adapt(now), adapt(now), limit]
    # No savepoint inside the engine's batch transaction: this statement is the first.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def give_back(deliveries: QuerySet[Delivery], *, now: datetime) -> int:
    """Back to `pending` with the lease cleared, to be decided again: only for rows no
    provider was called for (claimed, or decided and never started: NOT_YET_CALLED)."""
    return deliveries.update(
        status=DeliveryStatus.PENDING, lease_owner="", lease_expires_at=None, updated_at=now
    )


def release_claimed(*, owner: str, ids: list[int], now: datetime) -> int:
    """Give claimed rows back (no provider call was made for them: retrying is safe)."""
    return give_back(
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.CLAIMED, lease_owner=owner),
        now=now,
    )


def next_due_at() -> datetime | None:
    return (
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .order_by("send_after")
        .values_list("send_after", flat=True)
        .first()
    )


def reap_expired_leases(*, now: datetime) -> tuple[int, int]:
    """Recover the leases of workers that died or hung.

    An expired `claimed` row, or a `sending` one whose call never started (`sent_at` empty:
    the worker commits it just before calling), goes back to `pending`: no provider call was
    made for it. An expired `sending` row whose call started becomes `uncertain`: the
    provider may or may not have sent it, so it is never re-sent automatically; the sequence
    moves on to its next touch and the provider's evidence or the owner settles this one.
    Returns (released, made uncertain).
    """
    from touchbase.delivery.sequencing import advance, load_touches
    from touchbase.webhooks.events import emit_delivery_events

    expired = Delivery.objects.filter(lease_expires_at__lt=now)
    released = give_back(expired.filter(status=DeliveryStatus.CLAIMED), now=now)
    with transaction.atomic():
        lost = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("enrollment")
            .filter(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
        )
        uncalled = [d.pk for d in lost if d.sent_at is None]
        called = [d for d in lost if d.sent_at is not None]
        if uncalled:
            released += give_back(Delivery.objects.filter(pk__in=uncalled), now=now)
        if called:
            Delivery.objects.filter(pk__in=[d.pk for d in called]).update(
                status=DeliveryStatus.UNCERTAIN,
                error_code="lease_expired",
                error_message="the worker stopped while sending; the provider may have sent it",
                updated_at=now,
            )
            emit_delivery_events(called, type="delivery.uncertain")
            advance(called, load_touches(d.enrollment.campaign_id for d in called), now)
    return released, len(called)
