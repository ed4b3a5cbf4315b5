"""Moving an enrollment along its sequence once a touch is resolved.

Touch N+1 is scheduled from touch N's *scheduled* time plus its delay, never from when N was
actually sent, so a campaign's length stays predictable whatever quiet hours or retries did.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from touchbase.campaigns.models import (
    LIVE_ENROLLMENT_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Touch,
)
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.webhooks.events import emit_enrollment_events

TouchMap = dict[tuple[int, int], Touch]


def load_touches(campaign_ids: Iterable[int | None]) -> TouchMap:
    touches = Touch.objects.filter(campaign_id__in={c for c in campaign_ids if c}).select_related(
        "template"
    )
    return {(touch.campaign_id, touch.position): touch for touch in touches}


def advance(
    resolved: list[Delivery],
    touches: TouchMap,
    now: datetime,
    enrollments: dict[int, tuple[str, int]] | None = None,
) -> None:
    """For each resolved delivery (sent, failed, skipped, uncertain): create the next touch's
    row, or complete the enrollment after its last touch. A few statements per batch.
    `enrollments`: enrollment id -> (status, campaign id), read in the caller's transaction
    when it has them (the record step reads them with the rows it locks)."""
    if not resolved:
        return
    if enrollments is None:
        enrollments = {
            pk: (status, campaign_id)
            for pk, status, campaign_id in Enrollment.objects.filter(
                pk__in={d.enrollment_id for d in resolved}
            ).values_list("pk", "status", "campaign_id")
        }
    states = {pk: status for pk, (status, _) in enrollments.items()}
    campaigns = {pk: campaign_id for pk, (_, campaign_id) in enrollments.items()}
    next_rows: list[Delivery] = []
    moved_to: dict[int, list[int]] = defaultdict(list)
    completed: list[int] = []
    for delivery in resolved:
        status = states.get(delivery.enrollment_id)
        if status not in LIVE_ENROLLMENT_STATUSES:
            continue
        following = touches.get((campaigns[delivery.enrollment_id], delivery.position + 1))
        if following is None:
            completed.append(delivery.enrollment_id)
            continue
        due = delivery.scheduled_at + timedelta(hours=following.delay_hours)
        next_rows.append(
            Delivery(
                business_id=delivery.business_id,
                enrollment_id=delivery.enrollment_id,
                position=delivery.position + 1,
                channel=following.channel,
                scheduled_at=due,
                send_after=due,
                status=DeliveryStatus.HELD
                if status == EnrollmentStatus.FROZEN
                else DeliveryStatus.PENDING,
            )
        )
        moved_to[delivery.position + 1].append(delivery.enrollment_id)
    # ignore_conflicts: an uncertain touch the owner re-queued may resolve a second time.
    Delivery.objects.bulk_create(next_rows, ignore_conflicts=True)
    for position, enrollment_ids in moved_to.items():
        Enrollment.objects.filter(pk__in=enrollment_ids, current_position__lt=position).update(
            current_position=position
        )
    if completed:
        Enrollment.objects.filter(pk__in=completed, status__in=LIVE_ENROLLMENT_STATUSES).update(
            status=EnrollmentStatus.COMPLETED, completed_at=now
        )
        ended = set(completed)
        emit_enrollment_events(
            [d.enrollment for d in resolved if d.enrollment_id in ended], "enrollment.completed"
        )
