"""Create-or-update a job by the external id an integration gave it (PRODUCT §6): sending
the same external id again updates the job, never duplicates it."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from touchbase.jobs.models import Job
from touchbase.jobs.services import JobResult, create_job, update_job
from touchbase.tenancy.models import Business


@dataclass(frozen=True)
class UpsertResult:
    result: JobResult
    created: bool


def upsert_job(
    *,
    business: Business,
    external_id: str,
    enroll_in_campaign: bool = True,
    **fields: Any,
) -> UpsertResult:
    """Update the business's job with this external id, or create it with `fields`.

    Safe under concurrent identical calls: the partial unique index on (business,
    external_id) lets one insert win; the loser sees "already used", finds the winner's row
    and updates it instead. Updating with the same status triggers nothing, so the customer
    is enrolled once. `completed_at` is used only when the job is created.
    """
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationError({"external_id": "is required"})
    for attempt in range(2):
        job = Job.objects.filter(business=business, external_id=external_id).first()
        if job is not None:
            changes = {name: value for name, value in fields.items() if name != "completed_at"}
            return UpsertResult(
                update_job(job=job, enroll_in_campaign=enroll_in_campaign, **changes),
                created=False,
            )
        try:
            result = create_job(
                business=business,
                external_id=external_id,
                enroll_in_campaign=enroll_in_campaign,
                **fields,
            )
        except ValidationError as exc:
            lost_race = "already used" in " ".join(exc.message_dict.get("external_id", []))
            if lost_race and attempt == 0:
                continue
            raise
        return UpsertResult(result, created=True)
    raise AssertionError("unreachable: the second attempt always finds the job")
