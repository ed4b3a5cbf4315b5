"""API upserts racing a CSV import of the same jobs and people, on a real PostgreSQL: every
job and customer exists once, every job is enrolled once, nothing is lost."""

import io
import threading

import pytest
from django.db import connection

from tests.api.conftest import ApiClient
from tests.factories import make_business, make_campaign
from touchbase.api.keys import create_api_key
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import Customer
from touchbase.imports.importing import import_jobs
from touchbase.jobs.models import Job

ROWS = 600


def person(n: int) -> dict:
    return {"name": f"Person {n}", "email": f"p{n}@example.com", "phone": f"415555{n:04d}"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_upserts_during_an_import_leave_one_job_and_one_customer_each():
    business = make_business()
    make_campaign(business, service_type="hvac")
    raw_key = create_api_key(business=business, name="race").raw_key
    lines = ["Job ID,Name,Email,Phone,Service,Status"]
    for n in range(ROWS):
        p = person(n)
        lines.append(f"WO-{n},{p['name']},{p['email']},{p['phone']},hvac,completed")
    text = "\n".join(lines) + "\n"
    start = threading.Barrier(3)
    answers, errors = [], []

    def importer():
        try:
            start.wait()
            report = import_jobs(business=business, source=io.BytesIO(text.encode()))
            answers.append(("import", report.failed))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    def api_client(numbers):
        try:
            api = ApiClient(raw_key)
            start.wait()
            for n in numbers:
                body = {"external_id": f"WO-{n}", "service_type": "hvac", "status": "completed"}
                response = api.post("/jobs", {**body, "customer": person(n)})
                answers.append(("api", response.status_code))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=importer),
        threading.Thread(target=api_client, args=(range(0, ROWS, 7),)),
        threading.Thread(target=api_client, args=(range(ROWS - 1, 0, -11),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert ("import", 0) in answers
    assert {status for kind, status in answers if kind == "api"} <= {200, 201}
    assert Job.objects.filter(business=business).count() == ROWS
    assert Customer.objects.filter(business=business).count() == ROWS
    assert Enrollment.objects.filter(business=business).count() == ROWS
    assert not Job.objects.filter(business=business).exclude(enrollment_outcome="enrolled")
