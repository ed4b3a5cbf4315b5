"""A job's enrollment timeline: each touch scheduled, deferred (and why), sent, delivered,
clicked — from the delivery rows that exist and, for touches still ahead, their projection.

Times ahead are when the touch will go out, not when it falls due: moved into the worker's
own send window (web/upcoming.Windows), and a touch the worker will skip (an SMS without
consent, an email without an address) says so instead of "planned".
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from touchbase.campaigns.models import Enrollment, Touch
from touchbase.customers.reachability import channel_block
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.inbound.models import Event
from touchbase.jobs.models import Job
from touchbase.web.labels import reason_label
from touchbase.web.selectors import CLICK_KINDS, DELIVERED
from touchbase.web.times import when
from touchbase.web.upcoming import Windows


@dataclass
class Step:
    position: int
    channel: str
    touch: Touch | None
    delivery: Delivery | None
    scheduled_at: datetime | None
    state: str  # a word for the badge: scheduled, deferred, sent, failed...
    notes: list[str] = field(default_factory=list)


@dataclass
class EnrollmentTimeline:
    enrollment: Enrollment
    steps: list[Step]


def _delivery_step(
    delivery: Delivery, touch: Touch | None, clicks: list[Event], windows: Windows
) -> Step:
    step = Step(
        delivery.position, delivery.channel, touch, delivery, delivery.scheduled_at, delivery.status
    )
    step.notes.append(f"Scheduled for {when(delivery.scheduled_at)}")
    if delivery.status == DeliveryStatus.HELD:
        step.state = "held"
        why = reason_label(delivery.defer_reason) or "the campaign is paused"
        step.notes.append(f"Held: {why}")
    elif delivery.status == DeliveryStatus.PENDING:
        expected = windows.into_window(delivery.send_after, delivery.enrollment.customer)
        if delivery.defer_reason or expected > delivery.scheduled_at + timedelta(minutes=1):
            step.state = "deferred"
            reason = delivery.defer_reason or "send_window"
            step.notes.append(f"Goes out {when(expected)} ({reason_label(reason)})")
    if delivery.status == DeliveryStatus.SENT and delivery.sent_at:
        step.notes.append(f"Sent {when(delivery.sent_at)} to {delivery.to_address}")
    if delivery.receipt_status:
        at = f" {when(delivery.receipt_at)}" if delivery.receipt_at else ""
        step.notes.append(f"{delivery.receipt_status.capitalize()}{at}")
        if delivery.receipt_status == DELIVERED:
            step.state = "delivered"
    if delivery.skip_reason:
        step.notes.append(f"{delivery.get_status_display()}: {reason_label(delivery.skip_reason)}")
    if delivery.error_message or delivery.error_code:
        code = reason_label(delivery.error_code)
        step.notes.append(f"Error ({code}): {delivery.error_message}".strip())
    for click in clicks:
        step.state = "clicked"
        step.notes.append(f"Review link clicked {when(click.occurred_at)}")
    return step


def _planned_step(
    enrollment: Enrollment, touch: Touch, previous: datetime, windows: Windows
) -> Step:
    projected = previous + timedelta(hours=touch.delay_hours)
    step = Step(touch.position, touch.channel, touch, None, projected, "planned")
    customer = enrollment.customer
    block = channel_block(customer, touch.channel) if customer else None
    if block:
        step.state = "will skip"
        step.notes.append(f"Will be skipped: {reason_label(block)}")
    else:
        step.notes.append(f"Planned for about {when(windows.into_window(projected, customer))}")
    return step


def enrollment_timeline(
    enrollment: Enrollment, windows: Windows | None = None
) -> EnrollmentTimeline:
    windows = windows or Windows(enrollment.business)
    touches = (
        {t.position: t for t in enrollment.campaign.touches.all()} if enrollment.campaign else {}
    )
    deliveries = {d.position: d for d in enrollment.deliveries.all()}
    clicks: dict[int, list[Event]] = {}
    for event in Event.objects.filter(
        delivery__enrollment=enrollment, kind__in=CLICK_KINDS
    ).order_by("occurred_at"):
        clicks.setdefault(event.delivery_id, []).append(event)
    steps: list[Step] = []
    previous: datetime | None = None
    for position in sorted(set(touches) | set(deliveries)):
        touch, delivery = touches.get(position), deliveries.get(position)
        if delivery is not None:
            step = _delivery_step(delivery, touch, clicks.get(delivery.pk, []), windows)
        elif enrollment.is_live and previous is not None and touch is not None:
            step = _planned_step(enrollment, touch, previous, windows)
        else:
            step = Step(position, touch.channel if touch else "", touch, None, None, "not sent")
            step.notes.append("Not sent: the sequence ended before this touch")
        previous = step.scheduled_at
        steps.append(step)
    return EnrollmentTimeline(enrollment, steps)


def job_timeline(job: Job) -> list[EnrollmentTimeline]:
    enrollments = (
        Enrollment.objects.filter(job=job, business_id=job.business_id)
        .select_related("campaign", "customer", "business")
        .order_by("-enrolled_at")
    )
    windows = Windows(job.business)
    return [enrollment_timeline(enrollment, windows) for enrollment in enrollments]
