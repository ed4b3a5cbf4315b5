"""`enroll_jobs` (the engine's batch entry point, used by CSV import) must give every job
exactly what `enroll_job` gives when the same jobs are enrolled one after another."""

from datetime import timedelta

import pytest

from tests.factories import (
    complete_job,
    make_business,
    make_campaign,
    make_customer,
    unenrolled_jobs,
)
from touchbase.campaigns.enrollment import enroll_job
from touchbase.campaigns.enrollment_batch import enroll_jobs
from touchbase.campaigns.models import Enrollment
from touchbase.campaigns.services import pause_campaign
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job

# (customer index, service type, status) in the order they are offered to the engine
JOBS = [
    (0, "hvac", "completed"),  # plain enrollment
    (1, "hvac", "completed"),  # enrolled 10 days ago and still live: cooldown
    (2, "plumbing", "completed"),  # live for 40 days: repeat job stops it, enrolls again
    (3, "cleaning", "completed"),  # enrolled 40 days ago, finished: enrolled, 4 h timing
    (4, "roofing", "do_not_send"),
    (5, "hvac", "scheduled"),
    (0, "plumbing", "completed"),  # same customer again in this batch: cooldown
    (6, "electrical", "completed"),
    (7, "plumbing", "completed"),
    (7, "plumbing", "completed"),  # the same customer twice, back to back
]


def build(clock, *, all_services: bool):
    business = make_business(service_type_timing={"cleaning": 4})
    make_campaign(business, service_type="hvac")
    pause_campaign(campaign=make_campaign(business, "aggressive", service_type="plumbing"))
    if all_services:
        make_campaign(business, "conservative")
    customers = [make_customer(business, f"C{n}") for n in range(8)]
    clock.shift(timedelta(days=-40))
    complete_job(business, customers[2], "hvac")
    stopped = complete_job(business, customers[3], "hvac").job
    Enrollment.objects.filter(job=stopped).update(status="completed")
    clock.shift(timedelta(days=30))
    complete_job(business, customers[1], "hvac")
    clock.shift(timedelta(days=10))
    jobs = unenrolled_jobs(business, customers, JOBS)
    return business, jobs


def outcome(result):
    return (
        result.success,
        result.skipped,
        result.skip_reason,
        result.error,
        result.detail,
        result.last_enrolled_at,
        result.enrollment_id is not None,
    )


def state(business, jobs):
    def enrollment_row(e):
        return (
            {job.pk: n for n, job in enumerate(jobs)}.get(e.job_id, -1),
            e.customer.name,
            e.status,
            e.stop_reason,
            e.campaign and e.campaign.name,
            e.manual,
            e.enrolled_at,
        )

    enrollments = sorted(enrollment_row(e) for e in Enrollment.objects.filter(business=business))
    deliveries = sorted(
        (d.enrollment.customer.name, d.position, d.channel, d.status, d.scheduled_at)
        for d in Delivery.objects.filter(business=business)
    )
    outcomes = [
        Job.objects.filter(pk=job.pk)
        .values_list("enrollment_outcome", "enrollment_reason", "enrollment_detail")
        .get()
        for job in jobs
    ]
    return enrollments, deliveries, outcomes


@pytest.mark.parametrize("all_services", [True, False])
def test_the_batch_gives_each_job_what_enrolling_one_by_one_gives(db, clock, all_services):
    one_by_one_business, one_by_one_jobs = build(clock, all_services=all_services)
    batch_business, batch_jobs = build(clock, all_services=all_services)

    sequential = [enroll_job(job) for job in one_by_one_jobs]
    batched = enroll_jobs(batch_jobs)

    assert [outcome(r) for r in sequential] == [outcome(batched[j.pk]) for j in batch_jobs]
    assert state(one_by_one_business, one_by_one_jobs) == state(batch_business, batch_jobs)
    reasons = [r.skip_reason or ("enrolled" if r.success else r.error) for r in sequential]
    if all_services:
        assert reasons == [
            "enrolled",
            "cooldown",
            "enrolled",
            "enrolled",
            "do_not_send",
            "not_completed",
            "cooldown",
            "enrolled",
            "enrolled",
            "cooldown",
        ]
    else:
        assert reasons[2] == reasons[3] == reasons[8] == "no_matching_campaign"


def test_an_empty_batch_does_nothing(db):
    assert enroll_jobs([]) == {}
