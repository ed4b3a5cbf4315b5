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


# What a provider's report proves about a message we could not settle: it reached the
# provider (sent) or it never reached the customer (failed). Anything else proves nothing.
SMS_STATUSES_FAILED = {"failed", "undelivered", "canceled"}
EMAIL_EVENTS_SENT = {"queued", "sent", "deferred", "delivered", "complained", "opened", "clicked"}
EMAIL_EVENTS_FAILED = {"rejected", "failed", "bounced"}


def resolve_uncertain(
    *,
    delivery: Delivery,
    sent: bool,
    provider_message_id: str = "",
    error_code: str = "",
    error_message: str = "",
) -> bool:
    """The provider's own evidence (a status callback, an ESP event, its message log)
    settles an uncertain delivery: `sent` with the provider's id, or `failed`. The sequence
    already moved on when the delivery became uncertain (touch N+1 never waits on an
    unknown), so nothing else changes. Returns False when it was not uncertain."""
    now = clock.now()
    changes = {"lease_owner": "", "lease_expires_at": None, "updated_at": now}
    if provider_message_id:
        changes["provider_message_id"] = provider_message_id[:255]
    if sent:
        changes.update(
            status=DeliveryStatus.SENT,
            sent_at=delivery.sent_at or now,
            error_code="",
            error_message="",
        )
    else:
        changes.update(
            status=DeliveryStatus.FAILED,
            error_code=(error_code or "provider_failed")[:40],
            error_message=error_message or "the provider reported that it was not delivered",
        )
    resolved = Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNCERTAIN).update(
        **changes
    )
    if resolved:
        for name, value in changes.items():
            setattr(delivery, name, value)
    return bool(resolved)


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
