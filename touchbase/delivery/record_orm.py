"""The record step's write with the ORM (SQLite): what record_sql.py does on PostgreSQL in
two statements, here a few statements a write (SQLite is local: no round trips).
Same interface: `lock_ours`, then `write` of what recording.py and sequencing.py decided.
"""

from datetime import datetime

from touchbase.delivery.bulk_write import update_rows
from touchbase.delivery.models import Delivery, DeliveryAttempt, DeliveryStatus
from touchbase.delivery.record_sql import ATTEMPT_COLUMNS
from touchbase.delivery.sequencing import EnrollmentStates, NextSteps, write_next_steps

# What a recorded answer changes on its delivery.
OUTCOME_FIELDS = [
    "status",
    "send_after",
    "defer_reason",
    "attempts",
    "lease_owner",
    "lease_expires_at",
    "provider",
    "provider_message_id",
    "error_code",
    "error_message",
    "sent_at",
    "updated_at",
]


def lock_ours(
    ids: list[int], owner: str, business_ids: set[int]
) -> tuple[dict[int, int], EnrollmentStates]:
    """delivery id -> attempts so far, of the rows still ours, locked; and their
    enrollments' (status, campaign id). The endpoints are looked up when events are
    emitted (`one_write`, once a write)."""
    current, enrollments = {}, {}
    for pk, tries, enrollment_id, status, campaign_id in (
        Delivery.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, lease_owner=owner)
        .filter(status__in=[DeliveryStatus.SENDING, DeliveryStatus.UNCERTAIN])
        .values_list(
            "pk", "attempts", "enrollment_id", "enrollment__status", "enrollment__campaign_id"
        )
    ):
        current[pk], enrollments[enrollment_id] = tries, (status, campaign_id)
    return current, enrollments


def write(
    outcomes: list[Delivery],
    attempts: list[tuple],
    steps: NextSteps,
    now: datetime,
    *,
    with_events: bool = True,
) -> None:
    """`outcomes`, `attempts` (rows in ATTEMPT_COLUMNS order) and the next `steps`; the
    events are written by `one_write` on its way out (`with_events` changes nothing)."""
    update_rows(outcomes, OUTCOME_FIELDS)
    names = [name for name, _ in ATTEMPT_COLUMNS]
    DeliveryAttempt.objects.bulk_create(
        [DeliveryAttempt(**dict(zip(names, row, strict=True))) for row in attempts]
    )
    write_next_steps(steps, now)
