"""Races that only a real PostgreSQL (row locks, real concurrent transactions) can show."""

import threading
from datetime import timedelta

import psycopg
import pytest
from django.db import connection

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.factories import make_business, make_campaign, make_customer
from tests.processes import database_url
from touchbase import clock
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.claiming import CLAIM_POSTGRESQL
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stop_between_a_claim_and_its_decision_waits_for_the_decision():
    """A worker claims a due row, then (same transaction) locks its enrollment to decide
    it. A stop arriving between the two must wait for the decision and then take the row
    back, not lock the enrollment first: that would be a lock cycle PostgreSQL breaks by
    failing one of them (the stop's request, or the worker's batch)."""
    (delivery_id,) = make_due_deliveries(unthrottled_business(), 1)
    enrollment_id = Delivery.objects.get(pk=delivery_id).enrollment_id
    now = clock.now()
    worker = psycopg.connect(database_url())
    worker.execute("SET deadlock_timeout = '100ms'")
    claimed = worker.execute(
        CLAIM_POSTGRESQL, [now, 1, "worker", now + timedelta(minutes=5), now]
    ).fetchall()
    assert claimed == [(delivery_id,)]
    errors = []

    def owner_stops():
        try:
            stop_enrollment(enrollment=Enrollment.objects.get(pk=enrollment_id))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    stop = threading.Thread(target=owner_stops)
    stop.start()
    stop.join(timeout=0.5)  # it waits for the claimed row
    try:
        # The decide step: lock the enrollment with the row, decide it `sending`, commit.
        worker.execute(
            "SELECT e.id FROM delivery_delivery d JOIN campaigns_enrollment e"
            " ON e.id = d.enrollment_id WHERE d.id = %s FOR UPDATE OF d, e",
            [delivery_id],
        )
        worker.execute(
            "UPDATE delivery_delivery SET status = 'sending' WHERE id = %s", [delivery_id]
        )
        worker.commit()
    except psycopg.errors.DeadlockDetected as exc:
        errors.append(exc)
    finally:
        worker.close()
        stop.join()

    assert errors == []
    taken_back = Delivery.objects.get(pk=delivery_id)
    assert (taken_back.status, taken_back.skip_reason) == ("cancelled", "owner_stopped")
    assert Enrollment.objects.get(pk=enrollment_id).status == "stopped"
