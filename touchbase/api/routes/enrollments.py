from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router

from touchbase.api.auth import business_of
from touchbase.api.errors import not_found
from touchbase.api.pagination import Cursor, Limit, paginate
from touchbase.api.routes.deliveries import delivery_out
from touchbase.api.schemas import (
    EnrollmentDetailOut,
    EnrollmentPage,
    EnrollmentResultOut,
    ErrorOut,
    Id,
    ManualEnrollIn,
    Text,
)
from touchbase.api.selectors import enrollments_of
from touchbase.campaigns.enrollment import manually_enroll_job, stop_enrollment
from touchbase.campaigns.models import Campaign, Enrollment, EnrollmentStatus, StopReason
from touchbase.jobs.models import Job

router = Router(tags=["enrollments"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def get_enrollment(request: HttpRequest, enrollment_id: int) -> Enrollment:
    enrollment = enrollments_of(business_of(request)).filter(pk=enrollment_id).first()
    if enrollment is None:
        raise not_found("enrollment")
    return enrollment


def detail(enrollment: Enrollment) -> dict:
    deliveries = enrollment.deliveries.select_related("enrollment").order_by("position")
    return {
        **{field: getattr(enrollment, field) for field in EnrollmentDetailOut.model_fields},
        "deliveries": [delivery_out(delivery) for delivery in deliveries],
    }


@router.get("/enrollments", response={200: EnrollmentPage, **ERRORS})
def list_enrollments(
    request: HttpRequest,
    status: Literal[tuple(EnrollmentStatus.values)] | None = None,  # type: ignore[valid-type]
    stop_reason: Literal[tuple(StopReason.values)] | None = None,  # type: ignore[valid-type]
    campaign_id: Id | None = None,
    customer_id: Id | None = None,
    job_id: Id | None = None,
    job_external_id: Text(255) | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
):
    """List enrollments, newest first."""
    filters = {
        "status": status,
        "stop_reason": stop_reason,
        "campaign_id": campaign_id,
        "customer_id": customer_id,
        "job_id": job_id,
        "job__external_id": job_external_id,
    }
    enrollments = enrollments_of(business_of(request)).filter(
        **{name: value for name, value in filters.items() if value is not None}
    )
    return paginate(enrollments, cursor=cursor, limit=limit)


@router.get("/enrollments/{enrollment_id}", response={200: EnrollmentDetailOut, **ERRORS})
def read(request: HttpRequest, enrollment_id: Id):
    """One enrollment with its delivery timeline."""
    return detail(get_enrollment(request, enrollment_id))


@router.post("/enrollments/{enrollment_id}/stop", response={200: EnrollmentDetailOut, **ERRORS})
def stop(request: HttpRequest, enrollment_id: Id):
    """Stop the sequence for good (`owner_stopped`); nothing further is sent. Stopping an
    enrollment that already ended changes nothing."""
    enrollment = get_enrollment(request, enrollment_id)
    stop_enrollment(enrollment=enrollment, reason=StopReason.OWNER_STOPPED)
    return detail(enrollment)


@router.post("/enrollments", response={200: EnrollmentResultOut, **ERRORS})
def enroll(request: HttpRequest, payload: ManualEnrollIn):
    """Enroll a completed job's customer by hand: the cooldown is bypassed. `success` false
    with `skip_reason` or `error` says why nothing happened."""
    business = business_of(request)
    errors = {}
    job = Job.objects.filter(business=business, pk=payload.job_id).first()
    if job is None:
        errors["job_id"] = "not found for this business"
    campaign = None
    if payload.campaign_id is not None:
        campaign = Campaign.objects.filter(business=business, pk=payload.campaign_id).first()
        if campaign is None:
            errors["campaign_id"] = "not found for this business"
    if errors:
        raise ValidationError(errors)
    result = manually_enroll_job(job=job, campaign=campaign)
    return {
        "success": result.success,
        "enrollment_id": result.enrollment_id,
        "skipped": result.skipped,
        "skip_reason": result.skip_reason,
        "error": result.error,
        "detail": result.detail,
        "last_enrolled_at": result.last_enrolled_at,
    }
