"""Races that only a real PostgreSQL (row locks, real concurrent transactions) can show."""

import threading

import pytest
from django.db import connection

from tests.factories import make_business, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.jobs.services import create_job, mark_job_completed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_threads_completing_jobs_for_one_customer_leave_one_live_enrollment():
    business = make_business()
    make_campaign(business, service_type="hvac")
    make_campaign(business, "conservative", service_type="plumbing")
    make_campaign(business, "aggressive")
    customer = make_customer(business)
    service_types = ["hvac", "plumbing", "cleaning", "roofing"] * 2
    jobs = [
        create_job(business=business, customer=customer, service_type=service_type).job
        for service_type in service_types
    ]
    start = threading.Barrier(len(jobs))
    results, errors = [], []

    def complete(job):
        try:
            start.wait()
            results.append(mark_job_completed(job=job).enrollment)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Enrollment.objects.filter(customer=customer, status="active").count() == 1
    assert Enrollment.objects.count() == 1
    assert Delivery.objects.count() == 1
    assert sorted(r.skip_reason or "enrolled" for r in results) == ["cooldown"] * 7 + ["enrolled"]
    assert (
        Job.objects.filter(enrollment_outcome="skipped", enrollment_reason="cooldown").count() == 7
    )
