"""One payload, any entry point: the same customer, the same job, the same enrollment.

The business holds one customer with the payload's email (typed in another case) and
another with its phone: every entry point picks the email's customer (the one matching
rule, `touchbase.intake.matching`), creates the same job and enrolls the same way.
"""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import ApiClient
from tests.factories import make_business, make_campaign, make_customer, make_user
from touchbase import clock as the_clock
from touchbase.api.keys import create_api_key
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import Customer
from touchbase.imports.importing import import_jobs
from touchbase.imports.models import Import
from touchbase.inbound.signatures import sign_job_webhook
from touchbase.jobs.models import Job
from touchbase.ops.periodic import run_periodic_duties
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "external_id": "ST-1001",
    "service_type": "hvac",
    "status": "completed",
    "technician_name": "Sam",
    "customer": {"name": "Pat Doe", "email": "PAT@Example.com", "phone": "(305) 555-0142"},
}


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.VAR_DIR = str(tmp_path)


@pytest.fixture
def shop(clock):
    business = make_business("Cool Air HVAC")
    make_campaign(business, "standard")
    by_email = make_customer(business, "Pat (email)", email="pat@example.com", phone="")
    by_phone = make_customer(business, "Pat (phone)", email="", phone="+13055550142")
    return business, by_email, by_phone


def via_api(client, business):
    api = ApiClient(create_api_key(business=business, name="sync").raw_key)
    assert api.post("/jobs", PAYLOAD).status_code == 201


def via_batch_api(client, business):
    api = ApiClient(create_api_key(business=business, name="sync").raw_key)
    response = api.post("/jobs:batch", {"jobs": [PAYLOAD]})
    assert response.json()["results"][0]["status"] == 201


def via_webhook(client, business):
    body = json.dumps(PAYLOAD).encode()
    timestamp = str(int(the_clock.now().timestamp()))
    signature = sign_job_webhook(secret=business.webhook_secret, timestamp=timestamp, body=body)
    response = client.post(
        f"/hooks/jobs/{business.slug}",
        body,
        content_type="application/json",
        HTTP_X_TOUCHBASE_TIMESTAMP=timestamp,
        HTTP_X_TOUCHBASE_SIGNATURE=signature,
    )
    assert response.status_code == 201


def via_csv(client, business):
    text = (
        "Job ID,Name,Email,Phone,Service,Status,Technician\n"
        "ST-1001,Pat Doe,PAT@Example.com,(305) 555-0142,hvac,completed,Sam\n"
    )
    report = import_jobs(business=business, source=io.BytesIO(text.encode()))
    assert (report.created, report.failed) == (1, 0)


def via_web_form(client, business):
    user = make_user()
    add_member(business=business, user=user, role="owner")
    client.force_login(user)
    customer = PAYLOAD["customer"]
    response = client.post(
        "/jobs/new/",
        {
            "new_customer_name": customer["name"],
            "new_customer_email": customer["email"],
            "new_customer_phone": customer["phone"],
            "service_type": "hvac",
            "status": "completed",
            "technician_name": "Sam",
            "external_id": "ST-1001",
            "enroll_in_campaign": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors


def via_web_import(client, business):
    """The web app's import: upload, exact preview, confirm; the worker runs it."""
    user = make_user()
    add_member(business=business, user=user, role="owner")
    client.force_login(user)
    text = (
        "Job ID,Name,Email,Phone,Service,Status,Technician\n"
        "ST-1001,Pat Doe,PAT@Example.com,(305) 555-0142,hvac,completed,Sam\n"
    )
    upload = SimpleUploadedFile("jobs.csv", text.encode(), content_type="text/csv")
    client.post("/jobs/import/", {"kind": "jobs", "enroll": "on", "file": upload})
    assert client.post("/jobs/import/", {"action": "import"}).status_code == 302
    run_periodic_duties(wait=True)  # what `touchbase worker --once` runs
    assert Import.objects.get(business=business).created == 1


ENTRY_POINTS = [via_api, via_batch_api, via_webhook, via_csv, via_web_form, via_web_import]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_every_entry_point_matches_by_email_then_phone_and_enrolls_alike(entry_point, client, shop):
    business, by_email, _ = shop

    entry_point(client, business)

    job = Job.objects.get(business=business)
    assert job.customer == by_email  # email first, whatever its case; not the phone's
    assert (job.external_id, job.service_type, job.status, job.technician_name) == (
        "ST-1001",
        "hvac",
        "completed",
        "Sam",
    )
    assert Customer.objects.filter(business=business).count() == 2  # nobody created
    enrollment = Enrollment.objects.get(job=job)
    assert (enrollment.customer, enrollment.status, enrollment.current_position) == (
        by_email,
        "active",
        1,
    )
    assert job.enrollment_outcome == "enrolled"


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_every_entry_point_creates_one_customer_for_a_new_person(entry_point, client, clock):
    business = make_business("Fresh Air")
    make_campaign(business, "standard")

    entry_point(client, business)

    customer = Customer.objects.get(business=business)
    assert (customer.name, customer.email, customer.phone) == (
        "Pat Doe",
        "pat@example.com",
        "+13055550142",
    )
    assert Job.objects.get(business=business).customer == customer
