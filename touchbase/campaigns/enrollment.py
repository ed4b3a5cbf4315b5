"""The enrollment engine (PRODUCT §1): puts a completed job's customer into the right
campaign, or says exactly why not.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet

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
from touchbase.delivery.claiming import give_back
from touchbase.delivery.models import (
    NOT_YET_CALLED,
    UNCLAIMED_STATUSES,
    Delivery,
    DeliveryStatus,
)
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


def set_outcome(job: Job, result: EnrollmentResult, now: datetime | None = None) -> None:
    job.enrollment_outcome = result.outcome
    job.enrollment_reason = result.skip_reason or ("error" if result.error else "")
    job.enrollment_detail = result.detail[:255]
    job.enrollment_checked_at = now or clock.now()


def remember_outcome(job: Job, result: EnrollmentResult) -> None:
    set_outcome(job, result)
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


@dataclass(frozen=True)
class Plan:
    """`decide`'s answer when the job is to be enrolled."""

    campaign: Campaign
    first: Touch
    first_due: datetime
    stop: list[Enrollment]  # the customer's live sequences, stopped as `repeat_job`


def status_skip(job: Job) -> EnrollmentResult | None:
    """Rule 1: only a completed job is enrolled."""
    if job.status == JobStatus.DO_NOT_SEND:
        return EnrollmentResult.skip(SkipReason.DO_NOT_SEND)
    if job.status != JobStatus.COMPLETED:
        return EnrollmentResult.skip(SkipReason.NOT_COMPLETED)
    return None


def decide(
    *,
    job: Job,
    business: Business,
    campaign: Campaign | None,
    touches: list[Touch],
    live: list[Enrollment],
    last_enrolled_at: datetime | None,
    now: datetime,
    force_cooldown_override: bool = False,
) -> EnrollmentResult | Plan:
    """The rules of PRODUCT §1 for one job, on facts already loaded (`enroll_job` loads them
    for one job, `enroll_jobs` for a batch): the skip or failure to record, or the Plan."""
    skipped = status_skip(job)
    if skipped is not None:
        return skipped
    if campaign is None:
        return _no_matching_campaign(job)
    if not touches:
        return _no_touches(campaign)
    for enrollment in live:
        if enrollment.job_id == job.pk:
            return EnrollmentResult.skip(
                SkipReason.ALREADY_ENROLLED,
                enrollment_id=enrollment.pk,
                detail="This job's customer is already in its sequence",
            )
    if not force_cooldown_override and _in_cooldown(business, last_enrolled_at, now):
        return _cooldown(business, last_enrolled_at)
    return Plan(campaign, touches[0], _first_due(business, job, touches[0], now), list(live))


def build_enrollment(
    job: Job, plan: Plan, now: datetime, *, manual: bool = False
) -> tuple[Enrollment, Delivery]:
    """The unsaved enrollment (active at touch 1) and its first delivery."""
    enrollment = Enrollment(
        business_id=job.business_id,
        campaign_id=plan.campaign.pk,
        job_id=job.pk,
        customer_id=job.customer_id,
        status=EnrollmentStatus.ACTIVE,
        current_position=1,
        manual=manual,
        enrolled_at=now,
    )
    delivery = Delivery(
        business_id=job.business_id,
        position=1,
        channel=plan.first.channel,
        scheduled_at=plan.first_due,
        send_after=plan.first_due,
        status=DeliveryStatus.PENDING,
    )
    return enrollment, delivery


def _enroll(
    job: Job, campaign: Campaign | None, force_cooldown_override: bool, manual: bool
) -> EnrollmentResult:
    job = Job.objects.select_related("business").get(pk=job.pk)
    skipped = status_skip(job)
    if skipped is not None:
        return skipped
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
    now = clock.now()
    decision = decide(
        job=job,
        business=business,
        campaign=campaign,
        touches=list(campaign.touches.order_by("position")) if campaign else [],
        live=list(
            Enrollment.objects.filter(customer=customer, status__in=LIVE_ENROLLMENT_STATUSES)
        ),
        last_enrolled_at=Enrollment.objects.filter(customer=customer)
        .order_by("-enrolled_at")
        .values_list("enrolled_at", flat=True)
        .first(),
        now=now,
        force_cooldown_override=force_cooldown_override,
    )
    if isinstance(decision, EnrollmentResult):
        return decision
    stop_enrollments(
        Enrollment.objects.filter(pk__in=[enrollment.pk for enrollment in decision.stop]),
        reason=StopReason.REPEAT_JOB,
    )
    enrollment, delivery = build_enrollment(job, decision, now, manual=manual)
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError:
        # The partial unique index caught a concurrent enrollment of this customer.
        return EnrollmentResult.skip(SkipReason.ALREADY_ENROLLED)
    delivery.enrollment = enrollment
    delivery.save()
    emit_enrollment_events([enrollment], "enrollment.created")
    return EnrollmentResult.enrolled(enrollment, decision.campaign)


def stop_enrollments(enrollments: QuerySet[Enrollment], *, reason: StopReason) -> int:
    """Stop every live enrollment of `enrollments` and cancel their deliveries not yet
    claimed, and those a worker decided but has not called yet (it starts a call only
    while its row is still `sending` and not started). One a worker is deciding is
    cancelled by the worker when it sees the enrollment stopped. Returns how many
    enrollments were stopped."""
    now = clock.now()
    with transaction.atomic():
        ids = list(
            enrollments.filter(status__in=LIVE_ENROLLMENT_STATUSES).values_list("pk", flat=True)
        )
        if not ids:
            return 0
        # The rows before their enrollments, in the worker's order (it locks a row by
        # claiming it, then the row's enrollment to decide it): a row being decided makes
        # this wait for the decision, then it is taken back here.
        Delivery.objects.filter(
            Q(status__in=UNCLAIMED_STATUSES) | NOT_YET_CALLED, enrollment_id__in=ids
        ).update(
            status=DeliveryStatus.CANCELLED,
            skip_reason=reason,
            lease_owner="",
            lease_expires_at=None,
            updated_at=now,
        )
        Enrollment.objects.filter(pk__in=ids).update(
            status=EnrollmentStatus.STOPPED, stop_reason=reason, stopped_at=now
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
    otherwise leave it running and the worker skips the blocked touches, those it had
    decided but not called yet included: they go back to `pending` and are decided again.
    Returns how many enrollments were stopped (0 or 1)."""
    from touchbase.customers.reachability import channel_block

    stopped = 0
    for enrollment in customer.enrollments.filter(
        status__in=LIVE_ENROLLMENT_STATUSES
    ).select_related("campaign"):
        remaining = remaining_channels(enrollment)
        blocked = {channel for channel in remaining if channel_block(customer, channel)}
        if blocked == remaining:
            stopped += stop_enrollments(Enrollment.objects.filter(pk=enrollment.pk), reason=reason)
        else:
            give_back(
                Delivery.objects.filter(NOT_YET_CALLED, enrollment=enrollment, channel__in=blocked),
                now=clock.now(),
            )
    return stopped
