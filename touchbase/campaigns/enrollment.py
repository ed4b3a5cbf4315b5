"""The enrollment engine (PRODUCT §1): puts a completed job's customer into the right
campaign, or says exactly why not.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q, QuerySet

from touchbase import clock
from touchbase.campaigns.models import (
    LIVE_ENROLLMENT_STATUSES,
    Campaign,
    CampaignStatus,
    Enrollment,
    EnrollmentStatus,
    StopReason,
    Touch,
)
from touchbase.customers.models import Customer
from touchbase.delivery.models import UNCLAIMED_STATUSES, Delivery, DeliveryStatus
from touchbase.jobs.models import EnrollmentOutcome, Job, JobStatus
from touchbase.tenancy.models import Business
from touchbase.webhooks.events import emit_enrollment_events

logger = logging.getLogger(__name__)


class SkipReason(models.TextChoices):
    DO_NOT_SEND = "do_not_send", "Job is marked do not send"
    NOT_COMPLETED = "not_completed", "Job is not completed"
    NO_MATCHING_CAMPAIGN = "no_matching_campaign", "No active campaign for this service type"
    COOLDOWN = "cooldown", "Customer was enrolled recently"
    ALREADY_ENROLLED = "already_enrolled", "Already enrolled"


@dataclass(frozen=True)
class EnrollmentResult:
    success: bool
    enrollment_id: int | None = None
    error: str | None = None
    skipped: bool = False
    skip_reason: str | None = None
    last_enrolled_at: datetime | None = None
    detail: str = ""

    @classmethod
    def enrolled(cls, enrollment: Enrollment, campaign: Campaign) -> "EnrollmentResult":
        return cls(success=True, enrollment_id=enrollment.pk, detail=f"Enrolled in {campaign.name}")

    @classmethod
    def skip(cls, reason: SkipReason, detail: str = "", **extra) -> "EnrollmentResult":
        return cls(
            success=False,
            skipped=True,
            skip_reason=reason.value,
            detail=detail or reason.label,
            **extra,
        )

    @classmethod
    def failure(cls, error: str) -> "EnrollmentResult":
        return cls(success=False, error=error, detail=error)

    @property
    def outcome(self) -> str:
        if self.success:
            return EnrollmentOutcome.ENROLLED
        return EnrollmentOutcome.SKIPPED if self.skipped else EnrollmentOutcome.FAILED


def find_campaign_for(*, business: Business, service_type: str) -> Campaign | None:
    """The business's active campaign for this service type, else its active all-services
    campaign, else None. Paused campaigns and presets never match."""
    candidates = Campaign.objects.filter(business=business, status=CampaignStatus.ACTIVE).filter(
        Q(service_type=service_type) | Q(service_type__isnull=True)
    )
    return min(candidates, key=lambda campaign: campaign.service_type is None, default=None)


def enroll_job(
    job: Job,
    campaign: Campaign | None = None,
    force_cooldown_override: bool = False,
    *,
    manual: bool = False,
) -> EnrollmentResult:
    """Enroll the job's customer; never raises for an expected outcome.

    1. Only a `completed` job is enrolled.
    2. Campaign: the one given (the business's own, active, not a preset), else the matching
       active campaign (service type first, then all services).
    3. Cooldown: unless forced, skip when the customer was enrolled within the business's
       cooldown.
    4. Repeat job: the customer's other live enrollments stop with `repeat_job`.
    5. Touch 1 is due after the business's hours for the service type, else touch 1's delay.
    6. The enrollment and its first delivery are created together, in this transaction.
    The job remembers the outcome, so the owner can see why a job was not enrolled.
    """
    with transaction.atomic():
        result = _enroll(job, campaign, force_cooldown_override, manual)
        remember_outcome(job, result)
    return result


def manually_enroll_job(*, job: Job, campaign: Campaign | None = None) -> EnrollmentResult:
    """The owner's "enroll" button and the API's enroll call: bypasses the cooldown."""
    return enroll_job(job, campaign, force_cooldown_override=True, manual=True)


def _set_outcome(job: Job, result: EnrollmentResult, now: datetime | None = None) -> None:
    job.enrollment_outcome = result.outcome
    job.enrollment_reason = result.skip_reason or ("error" if result.error else "")
    job.enrollment_detail = result.detail[:255]
    job.enrollment_checked_at = now or clock.now()


def remember_outcome(job: Job, result: EnrollmentResult) -> None:
    _set_outcome(job, result)
    Job.objects.filter(pk=job.pk).update(
        enrollment_outcome=job.enrollment_outcome,
        enrollment_reason=job.enrollment_reason,
        enrollment_detail=job.enrollment_detail,
        enrollment_checked_at=job.enrollment_checked_at,
    )


def _campaign_problem(campaign: Campaign | None, business: Business) -> str | None:
    if campaign is None or (campaign.business_id not in (None, business.pk)):
        return "campaign: not found for this business"
    if campaign.is_preset:
        return "campaign: a preset cannot be enrolled into; create a campaign from it first"
    if campaign.status != CampaignStatus.ACTIVE:
        return f"campaign: {campaign.name!r} is paused"
    return None


def _no_matching_campaign(job: Job) -> EnrollmentResult:
    return EnrollmentResult.skip(
        SkipReason.NO_MATCHING_CAMPAIGN,
        f"No active campaign for {job.get_service_type_display()} and no active "
        "all-services campaign",
    )


def _no_touches(campaign: Campaign) -> EnrollmentResult:
    return EnrollmentResult.failure(f"campaign: {campaign.name!r} has no touches")


def _in_cooldown(business: Business, last_enrolled_at: datetime | None, now: datetime) -> bool:
    return bool(last_enrolled_at) and last_enrolled_at > now - timedelta(
        days=business.cooldown_days
    )


def _cooldown(business: Business, last_enrolled_at: datetime) -> EnrollmentResult:
    return EnrollmentResult.skip(
        SkipReason.COOLDOWN,
        f"Customer was enrolled on {last_enrolled_at:%Y-%m-%d} "
        f"(cooldown {business.cooldown_days} days)",
        last_enrolled_at=last_enrolled_at,
    )


def _first_due(business: Business, job: Job, first: Touch, now: datetime) -> datetime:
    hours = business.touch1_hours_for(job.service_type) or first.delay_hours
    return now + timedelta(hours=hours)


def _enroll(
    job: Job, campaign: Campaign | None, force_cooldown_override: bool, manual: bool
) -> EnrollmentResult:
    job = Job.objects.select_related("business").get(pk=job.pk)
    if job.status == JobStatus.DO_NOT_SEND:
        return EnrollmentResult.skip(SkipReason.DO_NOT_SEND)
    if job.status != JobStatus.COMPLETED:
        return EnrollmentResult.skip(SkipReason.NOT_COMPLETED)
    business = job.business

    # Every enrollment decision for one customer runs one at a time: the row lock serialises
    # them on PostgreSQL, IMMEDIATE transactions do on SQLite. Without it two jobs completed
    # at once for different service types could both pass the checks below.
    customer = Customer.objects.select_for_update().get(pk=job.customer_id)

    if campaign is not None:
        campaign = Campaign.objects.filter(pk=campaign.pk).first()
        problem = _campaign_problem(campaign, business)
        if problem:
            return EnrollmentResult.failure(problem)
    else:
        campaign = find_campaign_for(business=business, service_type=job.service_type)
        if campaign is None:
            return _no_matching_campaign(job)
    touches = list(campaign.touches.order_by("position"))
    if not touches:
        return _no_touches(campaign)

    now = clock.now()
    live = list(Enrollment.objects.filter(customer=customer, status__in=LIVE_ENROLLMENT_STATUSES))
    for enrollment in live:
        if enrollment.job_id == job.pk:
            return EnrollmentResult.skip(
                SkipReason.ALREADY_ENROLLED,
                enrollment_id=enrollment.pk,
                detail="This job's customer is already in its sequence",
            )

    if not force_cooldown_override:
        last_enrolled_at = (
            Enrollment.objects.filter(customer=customer)
            .order_by("-enrolled_at")
            .values_list("enrolled_at", flat=True)
            .first()
        )
        if _in_cooldown(business, last_enrolled_at, now):
            return _cooldown(business, last_enrolled_at)

    stop_enrollments(
        Enrollment.objects.filter(pk__in=[enrollment.pk for enrollment in live]),
        reason=StopReason.REPEAT_JOB,
    )

    first = touches[0]
    first_due = _first_due(business, job, first, now)
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                business=business,
                campaign=campaign,
                job=job,
                customer=customer,
                status=EnrollmentStatus.ACTIVE,
                current_position=1,
                manual=manual,
                enrolled_at=now,
            )
    except IntegrityError:
        # The partial unique index caught a concurrent enrollment of this customer.
        return EnrollmentResult.skip(SkipReason.ALREADY_ENROLLED)
    Delivery.objects.create(
        business=business,
        enrollment=enrollment,
        position=1,
        channel=first.channel,
        scheduled_at=first_due,
        send_after=first_due,
        status=DeliveryStatus.PENDING,
    )
    emit_enrollment_events([enrollment], "enrollment.created")
    return EnrollmentResult.enrolled(enrollment, campaign)


def stop_enrollments(enrollments: QuerySet[Enrollment], *, reason: StopReason) -> int:
    """Stop every live enrollment of `enrollments` and cancel their not-yet-claimed
    deliveries. A delivery a worker already holds is cancelled by the worker when it sees
    the enrollment stopped. Returns how many enrollments were stopped."""
    now = clock.now()
    with transaction.atomic():
        ids = list(
            enrollments.filter(status__in=LIVE_ENROLLMENT_STATUSES).values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Enrollment.objects.filter(pk__in=ids).update(
            status=EnrollmentStatus.STOPPED, stop_reason=reason, stopped_at=now
        )
        Delivery.objects.filter(enrollment_id__in=ids, status__in=UNCLAIMED_STATUSES).update(
            status=DeliveryStatus.CANCELLED, skip_reason=reason, updated_at=now
        )
        emit_enrollment_events(ids, "enrollment.stopped", reason=str(reason))
    return len(ids)


def stop_enrollment(
    *, enrollment: Enrollment, reason: StopReason = StopReason.OWNER_STOPPED
) -> bool:
    """Stop one enrollment (permanently). False when it had already ended."""
    stopped = stop_enrollments(Enrollment.objects.filter(pk=enrollment.pk), reason=reason)
    enrollment.refresh_from_db()
    return stopped == 1


def remaining_channels(enrollment: Enrollment) -> set[str]:
    """Channels of the touches still ahead of this enrollment (its current one included)."""
    if enrollment.campaign_id is None:
        return set()
    return set(
        enrollment.campaign.touches.filter(position__gte=enrollment.current_position).values_list(
            "channel", flat=True
        )
    )


def stop_if_unreachable(*, customer: Customer, reason: StopReason) -> int:
    """After a customer became unreachable on a channel (STOP, unsubscribe, complaint):
    stop their live enrollment with `reason` when no remaining touch can reach them;
    otherwise leave it running and the worker skips the blocked touches. Returns how many
    enrollments were stopped (0 or 1)."""
    from touchbase.customers.reachability import channel_block

    stopped = 0
    for enrollment in customer.enrollments.filter(
        status__in=LIVE_ENROLLMENT_STATUSES
    ).select_related("campaign"):
        if all(channel_block(customer, channel) for channel in remaining_channels(enrollment)):
            stopped += stop_enrollments(Enrollment.objects.filter(pk=enrollment.pk), reason=reason)
    return stopped


def enroll_jobs(jobs: Sequence[Job]) -> dict[int, EnrollmentResult]:
    """`enroll_job` for many jobs at once (CSV import): set-wise reads, bulk writes.

    Every job gets the result `enroll_job(job)` would give if the jobs were enrolled one
    after another in this order, and remembers it. The common case - a customer with no
    live enrollment who appears once in the batch - is decided here with the same rules and
    messages; any other job (a repeat job that must stop a live sequence, a customer seen
    earlier in the batch) goes through `enroll_job` itself, after this batch's enrollments
    are written, in order. Customers are locked as `enroll_job` locks them.
    """
    results: dict[int, EnrollmentResult] = {}
    if not jobs:
        return results
    with transaction.atomic():
        fresh = Job.objects.select_related("business").in_bulk([job.pk for job in jobs])
        ordered = [fresh[job.pk] for job in jobs if job.pk in fresh]
        customer_ids = sorted(
            {job.customer_id for job in ordered if job.status == JobStatus.COMPLETED}
        )
        list(
            Customer.objects.select_for_update()
            .filter(pk__in=customer_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        live_customers = set(
            Enrollment.objects.filter(
                customer_id__in=customer_ids, status__in=LIVE_ENROLLMENT_STATUSES
            ).values_list("customer_id", flat=True)
        )
        last_enrolled = dict(
            Enrollment.objects.filter(customer_id__in=customer_ids)
            .values("customer_id")
            .annotate(last=Max("enrolled_at"))
            .values_list("customer_id", "last")
        )
        campaigns: dict[tuple[int, str], Campaign | None] = {}
        touches: dict[int, list[Touch]] = {}
        now = clock.now()
        seen: set[int] = set()
        later: list[Job] = []
        planned: list[tuple[Job, Campaign, Touch]] = []
        for job in ordered:
            if job.status == JobStatus.DO_NOT_SEND:
                results[job.pk] = EnrollmentResult.skip(SkipReason.DO_NOT_SEND)
                continue
            if job.status != JobStatus.COMPLETED:
                results[job.pk] = EnrollmentResult.skip(SkipReason.NOT_COMPLETED)
                continue
            if job.customer_id in seen or job.customer_id in live_customers:
                later.append(job)
                continue
            seen.add(job.customer_id)
            business = job.business
            key = (business.pk, job.service_type)
            if key not in campaigns:
                campaigns[key] = find_campaign_for(business=business, service_type=job.service_type)
            campaign = campaigns[key]
            if campaign is None:
                results[job.pk] = _no_matching_campaign(job)
                continue
            if campaign.pk not in touches:
                touches[campaign.pk] = list(campaign.touches.order_by("position"))
            if not touches[campaign.pk]:
                results[job.pk] = _no_touches(campaign)
                continue
            last_enrolled_at = last_enrolled.get(job.customer_id)
            if _in_cooldown(business, last_enrolled_at, now):
                results[job.pk] = _cooldown(business, last_enrolled_at)
                continue
            planned.append((job, campaign, touches[campaign.pk][0]))

        enrollments = Enrollment.objects.bulk_create(
            Enrollment(
                business_id=job.business_id,
                campaign=campaign,
                job=job,
                customer_id=job.customer_id,
                status=EnrollmentStatus.ACTIVE,
                current_position=1,
                enrolled_at=now,
            )
            for job, campaign, _ in planned
        )
        deliveries = []
        for enrollment, (job, campaign, first) in zip(enrollments, planned, strict=True):
            due = _first_due(job.business, job, first, now)
            deliveries.append(
                Delivery(
                    business_id=job.business_id,
                    enrollment=enrollment,
                    position=1,
                    channel=first.channel,
                    scheduled_at=due,
                    send_after=due,
                    status=DeliveryStatus.PENDING,
                )
            )
            results[job.pk] = EnrollmentResult.enrolled(enrollment, campaign)
        Delivery.objects.bulk_create(deliveries)
        emit_enrollment_events(enrollments, "enrollment.created")
        # Remember every outcome; jobs with the same outcome share one UPDATE.
        same_outcome: dict[tuple, list[int]] = {}
        for job in ordered:
            if job.pk in results:
                _set_outcome(job, results[job.pk], now)
                key = (
                    job.enrollment_outcome,
                    job.enrollment_reason,
                    job.enrollment_detail,
                    job.enrollment_checked_at,
                )
                same_outcome.setdefault(key, []).append(job.pk)
        for (outcome, reason, detail, checked_at), pks in same_outcome.items():
            Job.objects.filter(pk__in=pks).update(
                enrollment_outcome=outcome,
                enrollment_reason=reason,
                enrollment_detail=detail,
                enrollment_checked_at=checked_at,
            )
        for job in later:
            results[job.pk] = enroll_job(job)
    return results
