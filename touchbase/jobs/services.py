"""Writes on jobs, and the completion trigger that enrolls the customer (PRODUCT §1).

Enrollment is non-blocking: the job is saved first, in its own transaction; then the
engine runs, and whatever it says (or an unexpected error) is remembered on the job.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from touchbase import clock
from touchbase.campaigns.enrollment import (
    EnrollmentResult,
    enroll_job,
    remember_outcome,
    stop_enrollments,
)
from touchbase.campaigns.models import LIVE_ENROLLMENT_STATUSES, Enrollment, StopReason
from touchbase.customers.models import Customer
from touchbase.jobs.models import Job, JobStatus
from touchbase.service_types import parse_service_type, unknown_service_type_message
from touchbase.tenancy.models import Business

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("customer", "service_type", "status", "external_id", "technician_name", "notes")


# Entering one of these statuses offers the job to the enrollment engine; for do_not_send the
# engine only records "skipped: do_not_send" so the owner sees why nothing was sent.
ENROLLMENT_TRIGGERS = (JobStatus.COMPLETED, JobStatus.DO_NOT_SEND)


@dataclass(frozen=True)
class JobResult:
    job: Job
    enrollment: EnrollmentResult | None = None  # None: enrollment was not triggered


def _clean(business: Business, fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "customer":
            if not isinstance(value, Customer) or value.business_id != business.pk:
                errors["customer"] = "not found for this business"
        elif name == "service_type":
            parsed = parse_service_type(value or "")
            if parsed is None:
                errors["service_type"] = unknown_service_type_message(value or "")
            value = parsed
        elif name == "status":
            if value not in JobStatus.values:
                errors["status"] = f"{value!r} is not one of: {', '.join(JobStatus.values)}"
        elif name == "external_id":
            value = (value or "").strip() or None
            if value and len(value) > 255:
                errors["external_id"] = "is longer than 255 characters"
        elif name == "technician_name":
            value = (value or "").strip()
            if len(value) > 100:
                errors["technician_name"] = "is longer than 100 characters"
        elif name == "notes":
            value = value or ""
        else:
            errors[name] = "is not a job field that can be set"
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _save(job: Job) -> None:
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        if job.external_id and (
            Job.objects.filter(business_id=job.business_id, external_id=job.external_id)
            .exclude(pk=job.pk)
            .exists()
        ):
            raise ValidationError(
                {"external_id": f"{job.external_id!r} is already used by another job"}
            ) from None
        raise


def enroll_after_save(job: Job) -> EnrollmentResult:
    """Run the engine; an unexpected failure is recorded on the job, never raised."""
    try:
        return enroll_job(job)
    except Exception as exc:
        logger.exception("enrollment of job %s failed", job.pk)
        result = EnrollmentResult.failure(f"internal error while enrolling: {type(exc).__name__}")
        remember_outcome(job, result)
        return result


def build_job(business: Business, fields: dict[str, Any], completed_at: datetime | None) -> Job:
    """A new, unsaved job from cleaned fields (create_job and the bulk intake path)."""
    job = Job(business=business, **fields)
    if job.status != JobStatus.SCHEDULED:
        job.completed_at = completed_at or clock.now()
    return job


def create_job(
    *,
    business: Business,
    customer: Customer,
    service_type: str,
    status: str = JobStatus.SCHEDULED,
    external_id: str | None = None,
    technician_name: str = "",
    notes: str = "",
    completed_at: datetime | None = None,
    enroll_in_campaign: bool = True,
) -> JobResult:
    fields = _clean(
        business,
        {
            "customer": customer,
            "service_type": service_type,
            "status": status,
            "external_id": external_id,
            "technician_name": technician_name,
            "notes": notes,
        },
    )
    job = build_job(business, fields, completed_at)
    _save(job)
    if job.status in ENROLLMENT_TRIGGERS and enroll_in_campaign:
        return JobResult(job, enroll_after_save(job))
    return JobResult(job)


def apply_changes(job: Job, changes: dict[str, Any]) -> str:
    """Set `changes` (validated) on `job` in memory, `completed_at` following the status;
    returns the status before. `update_job` saves one job; bulk intake saves many at once."""
    fields = _clean(job.business, changes)
    previous_status = job.status
    for name, value in fields.items():
        setattr(job, name, value)
    if job.status == JobStatus.SCHEDULED:
        job.completed_at = None
    elif job.completed_at is None or previous_status == JobStatus.SCHEDULED:
        job.completed_at = clock.now()
    return previous_status


def withdrawn(job: Job, previous_status: str) -> bool:
    """The owner changed their mind after completion: nothing more goes out for the job
    (its live enrollments are stopped, `owner_stopped`)."""
    return job.status == JobStatus.DO_NOT_SEND and previous_status == JobStatus.COMPLETED


def stop_withdrawn(job_ids: list[int]) -> None:
    if job_ids:
        stop_enrollments(
            Enrollment.objects.filter(job_id__in=job_ids, status__in=LIVE_ENROLLMENT_STATUSES),
            reason=StopReason.OWNER_STOPPED,
        )


def update_job(*, job: Job, enroll_in_campaign: bool = True, **changes: Any) -> JobResult:
    """Change a job. Becoming `completed` from any other status triggers enrollment (and
    becoming `do_not_send` records why it was not enrolled)."""
    previous_status = apply_changes(job, changes)
    with transaction.atomic():
        _save(job)
        if withdrawn(job, previous_status):
            stop_withdrawn([job.pk])
    if job.status in ENROLLMENT_TRIGGERS and job.status != previous_status and enroll_in_campaign:
        return JobResult(job, enroll_after_save(job))
    return JobResult(job)


def mark_job_completed(*, job: Job, enroll_in_campaign: bool = True) -> JobResult:
    """The "mark completed" action. A job that already was completed is left as it is."""
    return update_job(job=job, status=JobStatus.COMPLETED, enroll_in_campaign=enroll_in_campaign)


def delete_job(*, job: Job) -> None:
    """Stop the job's live enrollment (nothing further is sent) and delete the job."""
    with transaction.atomic():
        stop_enrollments(
            job.enrollments.filter(status__in=LIVE_ENROLLMENT_STATUSES),
            reason=StopReason.JOB_DELETED,
        )
        job.delete()
