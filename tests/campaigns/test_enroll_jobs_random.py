"""Random batches (repeat customers, mixed statuses, paused campaigns, cooldown edges): the
batch path and one job at a time give the same outcome per job and the same database."""

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import (
    complete_job,
    make_business,
    make_campaign,
    make_customer,
    unenrolled_jobs,
)
from touchbase import clock as the_clock
from touchbase.campaigns.enrollment import enroll_job
from touchbase.campaigns.enrollment_batch import enroll_jobs
from touchbase.campaigns.models import Enrollment
from touchbase.campaigns.services import pause_campaign
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=False)

COOLDOWN = 30
CUSTOMERS = 4
# Days before now each customer was last enrolled (None: never), around the cooldown's edge.
HISTORY = st.sampled_from([None, 1, COOLDOWN - 1, COOLDOWN, COOLDOWN + 1, 60])
JOB = st.tuples(
    st.integers(0, CUSTOMERS - 1),
    st.sampled_from(["hvac", "plumbing", "cleaning", "roofing"]),
    st.sampled_from(["completed", "completed", "scheduled", "do_not_send"]),
)


class Rollback(Exception):
    pass


def build(history, live, jobs, pause_plumbing):
    business = make_business(cooldown_days=COOLDOWN, service_type_timing={"cleaning": 4})
    make_campaign(business, service_type="hvac")
    plumbing = make_campaign(business, "aggressive", service_type="plumbing")
    if pause_plumbing:
        pause_campaign(campaign=plumbing)
    make_campaign(business, "conservative")  # all services
    customers = [make_customer(business, f"C{n}") for n in range(CUSTOMERS)]
    now = the_clock.now()
    for customer, days, still_live in zip(customers, history, live, strict=True):
        if days is None:
            continue
        job = complete_job(business, customer, "hvac").job
        enrollment = Enrollment.objects.get(job=job)
        Enrollment.objects.filter(pk=enrollment.pk).update(
            enrolled_at=now - timedelta(days=days),
            status="active" if still_live else "completed",
        )
    return unenrolled_jobs(business, customers, jobs)


def state(jobs):
    """Everything the engine wrote, named without primary keys."""
    names = {job.pk: n for n, job in enumerate(jobs)}
    outcomes = [
        (names[job.pk], job.enrollment_outcome, job.enrollment_reason, job.enrollment_detail)
        for job in Job.objects.filter(pk__in=names).order_by("pk")
    ]
    enrollments = sorted(
        (
            names.get(e.job_id, -1),
            e.customer.name,
            e.campaign.name if e.campaign else "",
            e.status,
            e.stop_reason,
            e.enrolled_at,
        )
        for e in Enrollment.objects.select_related("customer", "campaign")
    )
    deliveries = sorted(
        (names.get(d.enrollment.job_id, -1), d.position, d.channel, d.status, d.scheduled_at)
        for d in Delivery.objects.select_related("enrollment")
    )
    return outcomes, enrollments, deliveries


def one_at_a_time(jobs):
    return {job.pk: enroll_job(job) for job in jobs}


def run(history, live, jobs, pause_plumbing, batch):
    try:
        with transaction.atomic():
            built = build(history, live, jobs, pause_plumbing)
            results = (enroll_jobs if batch else one_at_a_time)(built)
            names = {job.pk: n for n, job in enumerate(built)}
            summary = sorted(
                (names[pk], r.success, r.skipped, r.skip_reason, r.error, r.detail)
                for pk, r in results.items()
            )
            captured = (summary, state(built))
            raise Rollback
    except Rollback:
        return captured


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.lists(HISTORY, min_size=CUSTOMERS, max_size=CUSTOMERS),
    live=st.lists(st.booleans(), min_size=CUSTOMERS, max_size=CUSTOMERS),
    jobs=st.lists(JOB, min_size=1, max_size=8),
    pause_plumbing=st.booleans(),
)
def test_batch_and_one_by_one_give_the_same_outcomes_and_database(
    clock, history, live, jobs, pause_plumbing
):
    one_by_one = run(history, live, jobs, pause_plumbing, batch=False)
    batch = run(history, live, jobs, pause_plumbing, batch=True)

    assert batch == one_by_one
