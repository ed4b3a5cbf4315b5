"""What customers do with the links in our messages: review clicks (/r/), private
feedback (/f/), email unsubscribe and resubscribe (/u/).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from touchbase import clock
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.campaigns.models import StopReason
from touchbase.customers.services import (
    record_email_opt_out,
    record_email_resubscribe,
)
from touchbase.delivery.models import Delivery
from touchbase.inbound.events import customer_of, store_event
from touchbase.inbound.models import Feedback
from touchbase.inbound.scanners import scanner_reason
from touchbase.webhooks.events import emit_delivery_events

FEEDBACK_MAX_LENGTH = 5000


# --- Tracked review link (/r/) --------------------------------------------------------------


@dataclass(frozen=True)
class ClickResult:
    destination: str  # the business's review page; "" when it has none
    scanner: str | None  # why the fetch looked like a scanner, else None
    first: bool  # the first click (or the first scan) of this link
    stopped: bool  # this click stopped the enrollment (review_clicked)


def record_click(*, delivery: Delivery, method: str = "GET", user_agent: str = "") -> ClickResult:
    """A fetch of a review link. The customer's first click stops the enrollment with
    `review_clicked`; a scanner's fetch is recorded once and stops nothing; later clicks
    change nothing. Either way the caller redirects to the review page."""
    now = clock.now()
    scanner = scanner_reason(
        method=method, user_agent=user_agent, sent_at=delivery.sent_at, now=now
    )
    kind = "review_link_scanned" if scanner else "review_clicked"
    if not delivery.business.review_link:
        # The page says the business has no review page yet: the customer could not
        # review, so the click is recorded but must not end the sequence.
        kind = "review_link_unset"
    stopped = False
    with transaction.atomic():
        event = store_event(
            source="touchbase",
            external_id=f"{kind}:{delivery.pk}",
            kind=kind,
            business=delivery.business,
            delivery=delivery,
            customer=customer_of(delivery),
            payload={"user_agent": user_agent[:300], "method": method, "scanner": scanner},
            occurred_at=now,
        )
        if event is not None and kind == "review_clicked":
            stopped = stop_enrollment(
                enrollment=delivery.enrollment, reason=StopReason.REVIEW_CLICKED
            )
            emit_delivery_events([delivery], type="review_link.clicked")
    return ClickResult(
        destination=delivery.business.review_link,
        scanner=scanner,
        first=event is not None,
        stopped=stopped,
    )


# --- Private feedback (/f/) -----------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackResult:
    feedback: Feedback
    created: bool  # False: feedback for this message had already been received


def record_feedback(*, delivery: Delivery, message: str) -> FeedbackResult:
    """Store the customer's private feedback for the owner and stop the enrollment
    (`feedback_submitted`). One feedback per message; a second submission changes nothing."""
    message = (message or "").strip()
    if not message:
        # Shown on the customer's page, in their language.
        raise ValidationError({"message": _("please write a few words before sending")})
    if len(message) > FEEDBACK_MAX_LENGTH:
        raise ValidationError(
            {
                "message": _("is longer than %(limit)s characters (%(length)s)")
                % {"limit": FEEDBACK_MAX_LENGTH, "length": len(message)}
            }
        )
    existing = Feedback.objects.filter(delivery=delivery).first()
    if existing is not None:
        return FeedbackResult(existing, created=False)
    now = clock.now()
    customer = customer_of(delivery)
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                business=delivery.business,
                delivery=delivery,
                enrollment=delivery.enrollment,
                customer=customer,
                message=message,
                created_at=now,
            )
            store_event(
                source="touchbase",
                external_id=f"feedback_submitted:{delivery.pk}",
                kind="feedback_submitted",
                business=delivery.business,
                delivery=delivery,
                customer=customer,
                occurred_at=now,
            )
            stop_enrollment(enrollment=delivery.enrollment, reason=StopReason.FEEDBACK_SUBMITTED)
            emit_delivery_events(
                [delivery], "feedback.received", feedback_id=feedback.pk, message=message
            )
    except IntegrityError:  # a concurrent submission for the same message won
        return FeedbackResult(Feedback.objects.get(delivery=delivery), created=False)
    return FeedbackResult(feedback, created=True)


# --- Email unsubscribe (/u/) ----------------------------------------------------------------


def record_unsubscribe(*, delivery: Delivery) -> bool:
    """Opt the customer out of email at once (link or RFC 8058 one-click); stops the sequence
    when no remaining touch can reach them. False when they already were out."""
    customer = customer_of(delivery)
    if customer is None:
        return False
    with transaction.atomic():
        changed = record_email_opt_out(customer=customer, reason="unsubscribe")
        if changed:
            opted_out_at = customer.email_opted_out_at.isoformat()
            store_event(
                source="touchbase",
                external_id=f"email_unsubscribed:{delivery.pk}:{opted_out_at}",
                kind="email_unsubscribed",
                business=delivery.business,
                delivery=delivery,
                customer=customer,
            )
    return changed


def record_resubscribe(*, delivery: Delivery) -> bool:
    """Undo an unsubscribe from the same page. False when the customer was not opted out."""
    customer = customer_of(delivery)
    if customer is None or customer.email_opted_out_at is None:
        return False
    now = clock.now()
    with transaction.atomic():
        record_email_resubscribe(customer=customer)
        store_event(
            source="touchbase",
            external_id=f"email_resubscribed:{delivery.pk}:{now.isoformat()}",
            kind="email_resubscribed",
            business=delivery.business,
            delivery=delivery,
            customer=customer,
            occurred_at=now,
        )
    return True
