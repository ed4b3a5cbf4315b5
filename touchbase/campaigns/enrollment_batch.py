"""The enrollment engine's batch entry point (CSV import, `POST /api/v1/jobs:batch`): the
rules of `enrollment.decide` and the builder `enrollment.build_enrollment`, applied to many
jobs with set-wise reads and bulk writes."""

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max

from touchbase import clock
from touchbase.bulk_reads import among
from touchbase.campaigns.enrollment import (
    EnrollmentResult,
    Plan,
    build_enrollment,
    decide,
    find_campaign_for,
    set_outcome,
    stop_enrollments,
)
from touchbase.campaigns.models import (
    LIVE_ENROLLMENT_STATUSES,
    Campaign,
    Enrollment,
    StopReason,
    Touch,
)
from touchbase.customers.models import Customer
from touchbase.delivery.bulk_write import insert_rows
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job, JobStatus
from touchbase.tenancy.models import Business

# The job fields the rules read (the batch path loads only these).
DECIDED_ON = ("pk", "business_id", "customer_id", "service_type", "status")


def enroll_jobs(jobs: Sequence[Job], *, current: bool = False) -> dict[int, EnrollmentResult]:
    """`enroll_job` for many jobs at once (CSV import, batch API): the same `decide` and
    `build_enrollment`, on facts read set-wise, with bulk writes.

    Every job gets the result `enroll_job(job)` would give if the jobs were enrolled one
    after another in this order, and remembers it: the facts `decide` reads (a customer's
    live sequences, last enrollment) are updated in memory as each job is decided, so a
    customer seen twice in the batch is decided as one by one would. Customers are locked
    as `enroll_job` locks them. `current`: the caller wrote these jobs in this transaction
    (bulk intake), so they are read as given instead of again from the database.
    """
    results: dict[int, EnrollmentResult] = {}
    if not jobs:
        return results
    with transaction.atomic():
        if current:
            fresh = {job.pk: job for job in reversed(jobs)}  # the first of a repeated job
        else:
            wanted = among("pk", [job.pk for job in jobs])
            fresh = {job.pk: job for job in Job.objects.only(*DECIDED_ON).filter(wanted)}
        # A job listed twice is decided once (its second call would change nothing).
        ordered = [fresh[pk] for pk in dict.fromkeys(job.pk for job in jobs) if pk in fresh]
        customer_ids = sorted(
            {job.customer_id for job in ordered if job.status == JobStatus.COMPLETED}
        )
        list(
            Customer.objects.select_for_update()
            .filter(among("pk", customer_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        live: dict[int, list[Enrollment]] = {}
        for enrollment in Enrollment.objects.filter(
            among("customer_id", customer_ids), status__in=LIVE_ENROLLMENT_STATUSES
        ).only("pk", "job_id", "customer_id"):
            live.setdefault(enrollment.customer_id, []).append(enrollment)
        last_enrolled = dict(
            Enrollment.objects.filter(among("customer_id", customer_ids))
            .values("customer_id")
            .annotate(last=Max("enrolled_at"))
            .values_list("customer_id", "last")
        )
        businesses = Business.objects.in_bulk({job.business_id for job in ordered})
        campaigns: dict[tuple[int, str], Campaign | None] = {}
        touches: dict[int, list[Touch]] = {}
        now = clock.now()
        decisions: dict[int, EnrollmentResult | tuple[Plan, Enrollment, Delivery]] = {}
        to_stop: list[int] = []
        for job in ordered:
            key = (job.business_id, job.service_type)
            if job.status == JobStatus.COMPLETED and key not in campaigns:
                campaigns[key] = find_campaign_for(
                    business=businesses[job.business_id], service_type=job.service_type
                )
            campaign = campaigns.get(key)
            if campaign is not None and campaign.pk not in touches:
                touches[campaign.pk] = list(campaign.touches.order_by("position"))
            decision = decide(
                job=job,
                business=businesses[job.business_id],
                campaign=campaign,
                touches=touches.get(campaign.pk, []) if campaign else [],
                live=live.get(job.customer_id, []),
                last_enrolled_at=last_enrolled.get(job.customer_id),
                now=now,
            )
            if isinstance(decision, EnrollmentResult):
                decisions[job.pk] = decision
                continue
            enrollment, delivery = build_enrollment(job, decision, now)
            decisions[job.pk] = (decision, enrollment, delivery)
            to_stop += [stopped.pk for stopped in decision.stop if stopped.pk]
            # What one-by-one would see for this customer's next job in the batch.
            live[job.customer_id] = [enrollment]
            last_enrolled[job.customer_id] = now

        stop_enrollments(Enrollment.objects.filter(pk__in=to_stop), reason=StopReason.REPEAT_JOB)
        planned = [d for d in decisions.values() if not isinstance(d, EnrollmentResult)]
        insert_rows([enrollment for _, enrollment, _ in planned])
        for _, enrollment, delivery in planned:
            delivery.enrollment = enrollment
        insert_rows([delivery for _, _, delivery in planned])
        for job_pk, decision in decisions.items():
            if isinstance(decision, EnrollmentResult):
                results[job_pk] = decision
            else:
                results[job_pk] = EnrollmentResult.enrolled(decision[1], decision[0].campaign)
        # Remember every outcome; jobs with the same outcome share one UPDATE.
        same_outcome: dict[tuple, list[int]] = {}
        for job in ordered:
            set_outcome(job, results[job.pk], now)
            key = (
                job.enrollment_outcome,
                job.enrollment_reason,
                job.enrollment_detail,
                job.enrollment_checked_at,
            )
            same_outcome.setdefault(key, []).append(job.pk)
        for (outcome, reason, detail, checked_at), pks in same_outcome.items():
            Job.objects.filter(among("pk", pks)).update(
                enrollment_outcome=outcome,
                enrollment_reason=reason,
                enrollment_detail=detail,
                enrollment_checked_at=checked_at,
            )
    return results
