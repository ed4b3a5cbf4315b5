"""A job's enrollment timeline: each touch scheduled, deferred (and why), sent, delivered,
clicked — from the delivery rows that exist and, for touches still ahead, their projection."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from touchbase.campaigns.models import Enrollment, Touch
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.inbound.models import Event
from touchbase.jobs.models import Job
from touchbase.web.selectors import CLICK_KINDS, DELIVERED


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


def _when(moment: datetime) -> str:
    """A time in the active (the business's) time zone, as the owner reads it."""
    return timezone.localtime(moment).strftime("%b %-d, %H:%M %Z")


def _delivery_step(delivery: Delivery, touch: Touch | None, clicks: list[Event]) -> Step:
    step = Step(
        delivery.position, delivery.channel, touch, delivery, delivery.scheduled_at, delivery.status
    )
    step.notes.append(f"Scheduled for {_when(delivery.scheduled_at)}")
    if delivery.send_after > delivery.scheduled_at and delivery.status in (
        DeliveryStatus.PENDING,
        DeliveryStatus.HELD,
    ):
        step.state = "deferred" if delivery.status == DeliveryStatus.PENDING else "held"
        reason = delivery.defer_reason.replace("_", " ") or "retry"
        step.notes.append(f"Deferred to {_when(delivery.send_after)} ({reason})")
    if delivery.status == DeliveryStatus.SENT and delivery.sent_at:
        step.notes.append(f"Sent {_when(delivery.sent_at)} to {delivery.to_address}")
    if delivery.receipt_status:
        when = f" {_when(delivery.receipt_at)}" if delivery.receipt_at else ""
        step.notes.append(f"{delivery.receipt_status.capitalize()}{when}")
        if delivery.receipt_status == DELIVERED:
            step.state = "delivered"
    if delivery.skip_reason:
        step.notes.append(
            f"{delivery.get_status_display()}: {delivery.skip_reason.replace('_', ' ')}"
        )
    if delivery.error_message or delivery.error_code:
        step.notes.append(f"Error {delivery.error_code}: {delivery.error_message}".strip())
    for click in clicks:
        step.state = "clicked"
        step.notes.append(f"Review link clicked {_when(click.occurred_at)}")
    return step


def enrollment_timeline(enrollment: Enrollment) -> EnrollmentTimeline:
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
            step = _delivery_step(delivery, touch, clicks.get(delivery.pk, []))
        elif enrollment.is_live and previous is not None and touch is not None:
            projected = previous + timedelta(hours=touch.delay_hours)
            step = Step(position, touch.channel, touch, None, projected, "planned")
            step.notes.append(f"Planned for about {_when(projected)}")
        else:
            step = Step(position, touch.channel if touch else "", touch, None, None, "not sent")
            step.notes.append("Not sent: the sequence ended before this touch")
        previous = step.scheduled_at
        steps.append(step)
    return EnrollmentTimeline(enrollment, steps)


def job_timeline(job: Job) -> list[EnrollmentTimeline]:
    enrollments = (
        Enrollment.objects.filter(job=job, business_id=job.business_id)
        .select_related("campaign")
        .order_by("-enrolled_at")
    )
    return [enrollment_timeline(enrollment) for enrollment in enrollments]
