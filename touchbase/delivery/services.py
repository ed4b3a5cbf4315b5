"""The owner's decisions about deliveries the worker could not settle.

An `uncertain` delivery was handed to the provider by a worker that died before recording
the answer: the message may or may not have gone out, so it is never re-sent automatically
(at-most-once). The owner, who can ask the customer or look at the provider's log, decides.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from touchbase import clock
from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, EnrollmentStatus
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.tenancy.models import Business
from touchbase.tenancy.setup import SETUP_INCOMPLETE


def _claim_uncertain(delivery: Delivery, **changes) -> None:
    """Change an uncertain delivery with a conditional update: a second click, or a second
    owner acting at once, finds it no longer uncertain and is told so."""
    updated = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNCERTAIN).update(
        updated_at=clock.now(), **changes
    )
    if not updated:
        raise ValidationError({"delivery": "this delivery is no longer uncertain"})
    delivery.refresh_from_db()


def mark_uncertain_sent(*, delivery: Delivery) -> Delivery:
    """The owner knows the message arrived: record it as sent."""
    _claim_uncertain(
        delivery,
        status=DeliveryStatus.SENT,
        sent_at=delivery.sent_at or delivery.updated_at,
        lease_owner="",
        lease_expires_at=None,
    )
    return delivery


def requeue_uncertain(*, delivery: Delivery) -> Delivery:
    """The owner knows the message did not arrive: send it again as soon as the rules allow.
    Refused when the sequence has ended (nothing further may be sent to the customer)."""
    with transaction.atomic():
        live = delivery.enrollment.status in LIVE_ENROLLMENT_STATUSES
        if not live:
            raise ValidationError(
                {"delivery": "the sequence has ended; nothing more is sent to this customer"}
            )
        _claim_uncertain(
            delivery,
            status=DeliveryStatus.PENDING,
            send_after=clock.now(),
            lease_owner="",
            lease_expires_at=None,
            defer_reason="requeued_by_owner",
        )
    return delivery


def release_setup_holds(*, business: Business) -> int:
    """The business has finished its setup: the touches the worker held for it become due
    now (the worker applies every other rule when it claims them). Returns how many."""
    now = clock.now()
    return Delivery.objects.filter(
        business=business,
        status=DeliveryStatus.HELD,
        defer_reason=SETUP_INCOMPLETE,
        enrollment__status=EnrollmentStatus.ACTIVE,
    ).update(status=DeliveryStatus.PENDING, send_after=now, defer_reason="", updated_at=now)
