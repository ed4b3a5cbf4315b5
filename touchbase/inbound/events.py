"""Storing inbound facts (PRODUCT §4, §8) once each.

Every inbound handler stores its fact as an Event keyed by our token or the provider's id,
inside the transaction that acts on it, so a replay (a second click, a webhook delivered
twice) finds the row and changes nothing. State changes go through the customer, job and
enrollment services, exactly as the web app and API do.
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from touchbase import clock
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery
from touchbase.inbound.models import Event
from touchbase.tenancy.models import Business


def store_event(
    *,
    source: str,
    external_id: str,
    kind: str,
    business: Business | None = None,
    delivery: Delivery | None = None,
    customer: Customer | None = None,
    payload: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Event | None:
    """Store an inbound fact; None when it was stored before (a replay)."""
    try:
        with transaction.atomic():
            return Event.objects.create(
                business=business,
                source=source,
                external_id=external_id[:255],
                kind=kind[:40],
                delivery=delivery,
                enrollment_id=delivery.enrollment_id if delivery else None,
                customer=customer,
                payload=payload or {},
                occurred_at=occurred_at or clock.now(),
            )
    except IntegrityError:
        return None


def customer_of(delivery: Delivery) -> Customer | None:
    return delivery.enrollment.customer if delivery.enrollment_id else None
