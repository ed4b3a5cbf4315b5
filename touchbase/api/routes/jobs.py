from typing import Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status
from pydantic import ValidationError as PydanticError

from touchbase.api.auth import business_of
from touchbase.api.errors import (
    fields_from_django,
    fields_from_pydantic,
    not_found,
    validation_message,
)
from touchbase.api.pagination import Cursor, Limit, paginate
from touchbase.api.schemas import (
    CompleteIn,
    ErrorOut,
    Id,
    JobBatchIn,
    JobBatchOut,
    JobIn,
    JobOut,
    JobPage,
    JobPatch,
    Text,
    UtcIn,
)
from touchbase.api.selectors import jobs_of
from touchbase.bulk_reads import among
from touchbase.customers.models import ConsentSource, Customer
from touchbase.intake.bulk import take_jobs
from touchbase.intake.pipeline import take_job
from touchbase.intake.schema import JobIntake, clean_job
from touchbase.jobs.models import EnrollmentOutcome, Job, JobStatus
from touchbase.jobs.services import mark_job_completed, update_job
from touchbase.service_types import ServiceType
from touchbase.tenancy.models import Business

router = Router(tags=["jobs"])
ERRORS = {401: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut}


def job_out(job: Job) -> dict:
    return {
        "id": job.pk,
        "external_id": job.external_id,
        "customer_id": job.customer_id,
        "service_type": job.service_type,
        "status": job.status,
        "completed_at": job.completed_at,
        "technician_name": job.technician_name,
        "notes": job.notes,
        "enrollment": {
            "outcome": job.enrollment_outcome,
            "reason": job.enrollment_reason,
            "detail": job.enrollment_detail,
            "checked_at": job.enrollment_checked_at,
            "enrollment_id": getattr(job, "latest_enrollment_id", None),
        },
        "created_at": job.created_at,
        "updated_at": job.updated_at,
    }


def get_job(request: HttpRequest, job_id: int) -> Job:
    job = jobs_of(business_of(request)).filter(pk=job_id).first()
    if job is None:
        raise not_found("job")
    return job


def reread(business: Business, job: Job) -> dict:
    return job_out(jobs_of(business).get(pk=job.pk))


def intake_of(business: Business, payload: JobIn) -> JobIntake:
    """The API's typed body through the one intake validator (same rules and messages as the
    webhook, CSV and web form)."""
    values = payload.dict(exclude_unset=True)
    values["enroll"] = values.pop("enroll_in_campaign", True)
    return clean_job(values, zone=business.time_zone, default_status=None)


@router.post("/jobs", response={200: JobOut, 201: JobOut, **ERRORS})
def create_or_upsert(request: HttpRequest, payload: JobIn):
    """Create a job, or update the one with the same `external_id` (200 instead of 201).

    A job created (or moved to) `completed` enrolls its customer in the matching campaign
    unless `enroll_in_campaign` is false; `enrollment` in the answer says what happened.
    An update needs neither customer nor service type: the job keeps its own.
    """
    business = business_of(request)
    result = take_job(
        business=business,
        intake=intake_of(business, payload),
        recorded_by=f"api key {request.auth.prefix}",
        consent_source=ConsentSource.API,
    )
    return Status(201 if result.created else 200, reread(business, result.job))


def _refused(index: int, fields: dict[str, str]) -> dict:
    message = validation_message(fields)
    return {
        "index": index,
        "status": 422,
        "error": {"code": "validation_error", "message": message, "fields": fields},
    }


@router.post("/jobs:batch", response={200: JobBatchOut, **ERRORS})
def create_or_upsert_many(request: HttpRequest, payload: JobBatchIn):
    """Create or update up to 1,000 jobs at once, each exactly as `POST /jobs` would (same
    validation, matching and enrollment), written together: one result per job, in order."""
    business = business_of(request)
    results: list[dict | None] = [None] * len(payload.jobs)
    taken: list[tuple[int, JobIntake]] = []
    for index, item in enumerate(payload.jobs):
        try:
            taken.append((index, intake_of(business, JobIn.model_validate(item))))
        except PydanticError as exc:
            results[index] = _refused(index, fields_from_pydantic(exc.errors()))
        except ValidationError as exc:
            results[index] = _refused(index, fields_from_django(exc))
    with transaction.atomic():
        outcomes = take_jobs(
            business=business,
            intakes=[intake for _, intake in taken],
            recorded_by=f"api key {request.auth.prefix}",
            consent_source=ConsentSource.API,
        )
    written = among("pk", [o.job.pk for o in outcomes if o.job is not None])
    jobs = {job.pk: job for job in jobs_of(business).filter(written)}
    for (index, _), outcome in zip(taken, outcomes, strict=True):
        if outcome.errors:
            results[index] = _refused(index, outcome.errors)
        else:
            status = 201 if outcome.created else 200
            job = job_out(jobs[outcome.job.pk])
            results[index] = {"index": index, "status": status, "job": job}
    return {"results": results}


@router.get("/jobs", response={200: JobPage, **ERRORS})
def list_jobs(
    request: HttpRequest,
    status: Literal[tuple(JobStatus.values)] | None = None,  # type: ignore[valid-type]
    service_type: Literal[tuple(ServiceType.values)] | None = None,  # type: ignore[valid-type]
    customer_id: Id | None = None,
    external_id: Text(255) | None = None,
    enrollment_outcome: Literal[tuple(EnrollmentOutcome.values)] | None = None,  # type: ignore[valid-type]
    completed_after: UtcIn | None = None,
    completed_before: UtcIn | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
):
    """List jobs, newest first."""
    jobs = jobs_of(business_of(request))
    filters = {
        "status": status,
        "service_type": service_type,
        "customer_id": customer_id,
        "external_id": external_id,
        "enrollment_outcome": enrollment_outcome,
        "completed_at__gte": completed_after,
        "completed_at__lt": completed_before,
    }
    jobs = jobs.filter(**{name: value for name, value in filters.items() if value is not None})
    page = paginate(jobs, cursor=cursor, limit=limit)
    return {"items": [job_out(job) for job in page["items"]], "next_cursor": page["next_cursor"]}


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS})
def read(request: HttpRequest, job_id: Id):
    return job_out(get_job(request, job_id))


@router.patch("/jobs/{job_id}", response={200: JobOut, **ERRORS})
def update(request: HttpRequest, job_id: Id, payload: JobPatch):
    """Change the fields given. Moving the job to `completed` enrolls the customer (unless
    `enroll_in_campaign` is false); `do_not_send` after completion stops its sequence."""
    job = get_job(request, job_id)
    business = business_of(request)
    changes = payload.dict(exclude_unset=True)
    enroll = changes.pop("enroll_in_campaign", True)
    if "customer_id" in changes:
        customer = Customer.objects.filter(business=business, pk=changes.pop("customer_id"))
        changes["customer"] = customer.first()
        if changes["customer"] is None:
            raise ValidationError({"customer_id": "not found for this business"})
    for name in ("service_type", "status", "technician_name", "notes"):
        if name in changes and changes[name] is None:
            raise ValidationError({name: "must not be null"})
    update_job(job=job, enroll_in_campaign=enroll, **changes)
    return reread(business, job)


@router.post("/jobs/{job_id}/complete", response={200: JobOut, **ERRORS})
def complete(request: HttpRequest, job_id: Id, payload: CompleteIn | None = None):
    """Mark the job completed (a job already completed is left as it is). Enrolls the customer
    unless `enroll_in_campaign` is false."""
    job = get_job(request, job_id)
    enroll = payload.enroll_in_campaign if payload is not None else True
    mark_job_completed(job=job, enroll_in_campaign=enroll)
    return reread(business_of(request), job)
