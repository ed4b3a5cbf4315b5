"""Moving an enrollment along its sequence once a touch is resolved.

Touch N+1 is scheduled from touch N's *scheduled* time plus its delay, never from when N was
actually sent, so a campaign's length stays predictable whatever quiet hours or retries did.
`next_steps` decides what resolving some touches does (the next touch's row, or the
enrollment completes); `advance` writes that with the ORM. The record step on PostgreSQL
writes the same steps inside its one statement (record_sql.py).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
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
EnrollmentStates = dict[int, tuple[str, int]]  # enrollment id -> (status, campaign id)


def load_touches(campaign_ids: Iterable[int | None]) -> TouchMap:
    touches = Touch.objects.filter(campaign_id__in={c for c in campaign_ids if c}).select_related(
        "template"
    )
    return {(touch.campaign_id, touch.position): touch for touch in touches}


def read_enrollments(enrollment_ids: Iterable[int]) -> EnrollmentStates:
    return {
        pk: (status, campaign_id)
        for pk, status, campaign_id in Enrollment.objects.filter(
            pk__in=set(enrollment_ids)
        ).values_list("pk", "status", "campaign_id")
    }


@dataclass
class NextSteps:
    """What resolving some touches does to their sequences, not yet written."""

    # The next touches' rows: (business id, enrollment id, position, channel, due, status);
    # a touch is due (scheduled_at and send_after) at the previous one's scheduled_at + delay.
    rows: list[tuple] = field(default_factory=list)
    moved_to: dict[int, int] = field(default_factory=dict)  # enrollment id -> position
    completed: list[int] = field(default_factory=list)  # enrollment ids
    ended: list[Enrollment] = field(default_factory=list)  # theirs, for the events


def next_steps(
    resolved: list[Delivery], touches: TouchMap, enrollments: EnrollmentStates
) -> NextSteps:
    """For each resolved delivery (sent, failed, skipped, uncertain) of a live enrollment:
    the next touch's row, or the enrollment completes after its last touch."""
    steps = NextSteps()
    for delivery in resolved:
        status, campaign_id = enrollments.get(delivery.enrollment_id, (None, None))
        if status not in LIVE_ENROLLMENT_STATUSES:
            continue
        position = delivery.position + 1
        following = touches.get((campaign_id, position))
        if following is None:
            steps.completed.append(delivery.enrollment_id)
            steps.ended.append(delivery.enrollment)
            continue
        due = delivery.scheduled_at + timedelta(hours=following.delay_hours)
        held = status == EnrollmentStatus.FROZEN
        steps.rows.append(
            (
                delivery.business_id,
                delivery.enrollment_id,
                position,
                following.channel,
                due,
                DeliveryStatus.HELD if held else DeliveryStatus.PENDING,
            )
        )
        moved = steps.moved_to.get(delivery.enrollment_id, 0)
        steps.moved_to[delivery.enrollment_id] = max(moved, position)
    return steps


def emit_completions(steps: NextSteps) -> None:
    emit_enrollment_events(steps.ended, "enrollment.completed")


def advance(
    resolved: list[Delivery],
    touches: TouchMap,
    now: datetime,
    enrollments: EnrollmentStates | None = None,
) -> None:
    """`next_steps`, written with the ORM. `enrollments`: read in the caller's transaction
    when it has them (else read here)."""
    if not resolved:
        return
    if enrollments is None:
        enrollments = read_enrollments(d.enrollment_id for d in resolved)
    steps = next_steps(resolved, touches, enrollments)
    write_next_steps(steps, now)
    emit_completions(steps)


def write_next_steps(steps: NextSteps, now: datetime) -> None:
    """With the ORM: a few statements per batch (record_sql.py writes them on PostgreSQL
    within the record step's one statement). Their events are the caller's
    (`emit_completions`)."""
    # ignore_conflicts: an uncertain touch the owner re-queued may resolve a second time.
    Delivery.objects.bulk_create(
        [
            Delivery(
                business_id=business_id,
                enrollment_id=enrollment_id,
                position=position,
                channel=channel,
                scheduled_at=due,
                send_after=due,
                status=status,
            )
            for business_id, enrollment_id, position, channel, due, status in steps.rows
        ],
        ignore_conflicts=True,
    )
    by_position: dict[int, list[int]] = {}
    for enrollment_id, position in steps.moved_to.items():
        by_position.setdefault(position, []).append(enrollment_id)
    for position, enrollment_ids in by_position.items():
        Enrollment.objects.filter(pk__in=enrollment_ids, current_position__lt=position).update(
            current_position=position
        )
    if steps.completed:
        Enrollment.objects.filter(
            pk__in=steps.completed, status__in=LIVE_ENROLLMENT_STATUSES
        ).update(status=EnrollmentStatus.COMPLETED, completed_at=now)
