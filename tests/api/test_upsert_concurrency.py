"""Identical upserts racing each other on a real PostgreSQL: one job, one customer, one
enrollment, and every request answered 200 or 201."""

import threading

import pytest
from django.db import connection

from tests.api.conftest import ApiClient
from tests.factories import make_business, make_campaign
from touchbase.api.keys import create_api_key
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import Customer
from touchbase.jobs.models import Job


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_identical_upserts_at_once_make_one_job_one_customer_one_enrollment():
    business = make_business()
    make_campaign(business, service_type="hvac")
    raw_key = create_api_key(business=business, name="race").raw_key
    payload = {
        "external_id": "fsm-race-1",
        "service_type": "hvac",
        "status": "completed",
        "customer": {"name": "Racy Rita", "email": "rita@example.com", "phone": "4155550199"},
    }
    start = threading.Barrier(8)
    answers, errors = [], []

    def send():
        try:
            api = ApiClient(raw_key)
            start.wait()
            response = api.post("/jobs", payload)
            answers.append((response.status_code, response.json().get("id")))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(status for status, _ in answers) == [200] * 7 + [201]
    assert len({job_id for _, job_id in answers}) == 1
    assert Job.objects.filter(business=business).count() == 1
    assert Customer.objects.filter(business=business).count() == 1
    assert Enrollment.objects.filter(business=business).count() == 1
