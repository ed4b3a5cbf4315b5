"""A few weeks of history for the demo business, so every page has something true to show
(sent, delivered, clicked, stopped, a reply, a feedback, an uncertain send), and one touch
that falls due a moment after `make up` starts, so the console shows the worker sending it.

Everything is created through the real services at the present moment, then moved into the
past with plain updates: the rows are exactly what the engine would have left behind.
"""

import random
from datetime import UTC, datetime, timedelta

from touchbase import clock
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.campaigns.models import Enrollment, StopReason
from touchbase.customers.models import ConsentSource
from touchbase.customers.services import create_customer
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.delivery.sequencing import advance, load_touches
from touchbase.inbound.models import Event, Feedback, InboundSms, SmsIntent
from touchbase.jobs.models import Job
from touchbase.jobs.services import create_job
from touchbase.tenancy.models import Business

FIRST_NAMES = "Olivia Liam Emma Noah Ava Elijah Sophia Lucas Mia Mason Isabella Ethan Harper Leo"
LAST_NAMES = "Reed Brooks Price Bennett Hayes Foster Ward Gray Kim Patel Rivera Cohen Shaw Diaz"
HISTORY_DAYS = 20
DUE_SOON = timedelta(seconds=30)


def daytime_zone(now: datetime) -> str:
    """A fixed-offset zone where it is early afternoon now: the touch due at start-up is
    inside its send window whatever time the demo is started."""
    offset = (13 - now.astimezone(UTC).hour + 12) % 24 - 12
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def _customer(business: Business, n: int, *, time_zone: str = "", consent: bool = True):
    first, last = FIRST_NAMES.split()[n % 14], LAST_NAMES.split()[(n * 5) % 14]
    return create_customer(
        business=business,
        name=f"{first} {last}",
        email=f"{first.lower()}.{last.lower()}@example.com",
        phone=f"+1305555{1200 + n:04d}",
        time_zone=time_zone,
        sms_consent=consent,
        consent_source=ConsentSource.FORM,
        consent_disclosure="Demo: agreed on the service form.",
        recorded_by="demo data",
    )


def _move_into_past(delivery: Delivery, sent_at: datetime, **changes) -> None:
    enrollment = delivery.enrollment
    Enrollment.objects.filter(pk=enrollment.pk).update(enrolled_at=sent_at - timedelta(hours=24))
    Job.objects.filter(pk=enrollment.job_id).update(completed_at=sent_at - timedelta(hours=24))
    fields = {
        "status": DeliveryStatus.SENT,
        "scheduled_at": sent_at,
        "send_after": sent_at,
        "sent_at": sent_at,
        "attempts": 1,
        "provider": "console",
        "provider_message_id": f"demo-{delivery.pk}",
        "to_address": enrollment.customer.email
        if delivery.channel == "email"
        else enrollment.customer.phone,
        "body_text": "Demo message.",
        "receipt_status": "delivered",
        "receipt_at": sent_at + timedelta(minutes=1),
        **changes,
    }
    Delivery.objects.filter(pk=delivery.pk).update(**fields)


def seed_history(business: Business) -> None:
    now = clock.now()
    rng = random.Random(13)
    still_running: list[int] = []
    for n in range(14):
        customer = _customer(business, n)
        result = create_job(
            business=business,
            customer=customer,
            service_type=("hvac", "cleaning", "electrical")[n % 3],
            status="completed",
            technician_name=("Luis", "Dana", "Ray")[n % 3],
            external_id=f"DEMO-{2000 + n}",
        )
        if not result.enrollment.success:
            continue
        delivery = Delivery.objects.select_related("enrollment__customer").get(
            enrollment_id=result.enrollment.enrollment_id
        )
        sent_at = now - timedelta(days=rng.randint(1, HISTORY_DAYS), hours=rng.randint(0, 8))
        if n == 5:  # a worker died mid-call: the owner decides on the Activity page
            _move_into_past(delivery, sent_at, status=DeliveryStatus.UNCERTAIN, receipt_status="")
            still_running.append(delivery.pk)
            continue
        _move_into_past(delivery, sent_at)
        enrollment = delivery.enrollment
        if n % 3 == 0:  # clicked through to review
            stopped_at = sent_at + timedelta(hours=2)
            Event.objects.create(
                business=business,
                source="touchbase",
                external_id=f"review_clicked:{delivery.pk}",
                kind="review_clicked",
                delivery=delivery,
                enrollment=enrollment,
                customer=customer,
                occurred_at=stopped_at,
            )
            _stop(enrollment, StopReason.REVIEW_CLICKED, stopped_at)
        elif n == 4:
            Feedback.objects.create(
                business=business,
                delivery=delivery,
                enrollment=enrollment,
                customer=customer,
                message="Luis was great, but the first appointment started an hour late.",
                created_at=sent_at + timedelta(hours=5),
            )
            _stop(enrollment, StopReason.FEEDBACK_SUBMITTED, sent_at + timedelta(hours=5))
        elif n == 7:
            _reply(
                delivery,
                "Thanks! Can you come back next month for the upstairs unit?",
                sent_at + timedelta(hours=1),
                flagged=False,
            )
        elif n == 8:  # asks to stop in words: flagged for the owner, consent untouched
            _reply(delivery, "please end these texts", sent_at + timedelta(hours=2), flagged=True)
        elif n == 10:
            _stop(enrollment, StopReason.OPTED_OUT_EMAIL, sent_at + timedelta(hours=3))
        else:
            still_running.append(delivery.pk)
    # The sequences still running get their next touch, as the worker would have scheduled.
    sent = list(Delivery.objects.select_related("enrollment").filter(pk__in=still_running))
    advance(sent, load_touches(d.enrollment.campaign_id for d in sent), now)
    # Their next touches fall due over the coming days, not in a burst at start-up.
    for pk in Delivery.objects.filter(
        enrollment__deliveries__pk__in=still_running, status=DeliveryStatus.PENDING
    ).values_list("pk", flat=True):
        due = now + timedelta(hours=rng.randint(3, 96))
        Delivery.objects.filter(pk=pk).update(scheduled_at=due, send_after=due)

    # Due a moment after start-up, in a zone where it is daytime now.
    customer = _customer(business, 14, time_zone=daytime_zone(now))
    result = create_job(
        business=business,
        customer=customer,
        service_type="cleaning",
        status="completed",
        technician_name="Ray",
        external_id="DEMO-3000",
    )
    Delivery.objects.filter(enrollment_id=result.enrollment.enrollment_id).update(
        scheduled_at=now + DUE_SOON, send_after=now + DUE_SOON
    )


def _reply(delivery: Delivery, body: str, at: datetime, *, flagged: bool) -> None:
    """A text the customer sent back; any reply stops the sequence (stop_on_reply)."""
    enrollment = delivery.enrollment
    InboundSms.objects.create(
        business=delivery.business,
        customer=enrollment.customer,
        provider_message_id=f"SMdemo{delivery.pk:026d}",
        from_number=enrollment.customer.phone,
        body=body,
        intent=SmsIntent.REPLY,
        needs_attention=flagged,
        received_at=at,
    )
    _stop(enrollment, StopReason.CUSTOMER_REPLIED, at)


def _stop(enrollment: Enrollment, reason: str, at: datetime) -> None:
    stop_enrollment(enrollment=enrollment, reason=reason)
    Enrollment.objects.filter(pk=enrollment.pk).update(stopped_at=at)
