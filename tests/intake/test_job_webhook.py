import json
from datetime import timedelta

import pytest

from tests.factories import make_business, make_campaign, make_customer
from touchbase import clock as the_clock
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import ConsentRecord, Customer
from touchbase.customers.services import record_sms_consent
from touchbase.inbound.models import Event
from touchbase.inbound.signatures import sign_job_webhook
from touchbase.jobs.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    business = make_business("Cool Air HVAC")
    make_campaign(business, "standard")
    return business


def job_body(**overrides) -> dict:
    body = {
        "external_id": "ST-1001",
        "service_type": "hvac",
        "technician_name": "Sam",
        "customer": {
            "name": "Pat Doe",
            "email": "pat@example.com",
            "phone": "(305) 555-0142",
            "sms_consent": True,
            "consent_disclosure": "I agree to receive texts. Reply STOP to opt out.",
        },
    }
    body.update(overrides)
    return body


def send(client, business, body, *, secret=None, timestamp=None, signature=None, raw=None):
    """POST the body signed as the README documents: HMAC-SHA256 over `timestamp.body`."""
    payload = raw if raw is not None else json.dumps(body).encode()
    timestamp = str(timestamp if timestamp is not None else int(the_clock.now().timestamp()))
    if signature is None:
        signature = sign_job_webhook(
            secret=secret or business.webhook_secret, timestamp=timestamp, body=payload
        )
    return client.post(
        f"/hooks/jobs/{business.slug}",
        payload,
        content_type="application/json",
        HTTP_X_TOUCHBASE_TIMESTAMP=timestamp,
        HTTP_X_TOUCHBASE_SIGNATURE=signature,
    )


def nothing_written():
    return not (Job.objects.exists() or Customer.objects.exists() or Event.objects.exists())


def test_a_completed_job_creates_the_customer_and_the_job_and_enrolls(client, business):
    response = send(client, business, job_body())

    assert response.status_code == 201
    job = Job.objects.get()
    assert (job.external_id, job.status, job.technician_name) == ("ST-1001", "completed", "Sam")
    assert (job.customer.name, job.customer.phone) == ("Pat Doe", "+13055550142")
    assert job.customer.sms_consent == "granted"
    record = ConsentRecord.objects.get()
    assert (record.source, record.recorded_by) == ("api", "job webhook")
    assert record.disclosure_text.startswith("I agree to receive texts")
    assert Enrollment.objects.get().job == job
    assert response.json()["job"] == {
        "id": job.pk,
        "external_id": "ST-1001",
        "status": "completed",
        "created": True,
    }
    assert response.json()["enrollment"]["outcome"] == "enrolled"


def test_sending_the_same_external_id_again_updates_and_never_duplicates(client, business, clock):
    send(client, business, job_body())
    clock.shift(timedelta(seconds=30))

    response = send(client, business, job_body(technician_name="Alex"))

    assert response.status_code == 200
    assert response.json()["job"]["created"] is False
    assert Job.objects.get().technician_name == "Alex"
    assert Enrollment.objects.count() == 1
    assert Customer.objects.count() == 1


def test_a_scheduled_job_is_enrolled_when_a_later_call_completes_it(client, business, clock):
    send(client, business, job_body(status="scheduled"))
    assert not Enrollment.objects.exists()
    clock.shift(timedelta(hours=2))

    response = send(client, business, {"external_id": "ST-1001"})

    assert response.json()["enrollment"]["outcome"] == "enrolled"
    assert Job.objects.get().status == "completed"


def test_an_existing_customer_is_found_by_phone_and_left_as_it_is(client, business):
    customer = make_customer(business, name="Pat D.", email="", phone="3055550142")

    send(client, business, job_body())

    assert Customer.objects.get() == customer
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Pat D.", "")  # a matched customer is kept


def test_consent_is_never_recorded_over_a_stop(client, business):
    customer = make_customer(business, phone="3055550142")
    record_sms_consent(customer=customer, granted=False, source="keyword")

    response = send(client, business, job_body())

    assert response.status_code == 201
    customer.refresh_from_db()
    assert customer.sms_consent == "revoked"
    assert "opted out by text message" in response.json()["warnings"][0]


def test_enroll_false_saves_the_job_without_enrolling(client, business):
    response = send(client, business, job_body(enroll=False))

    assert response.status_code == 201
    assert response.json()["enrollment"] is None
    assert not Enrollment.objects.exists()


def test_a_bad_signature_is_refused_and_nothing_is_written(client, business):
    response = send(client, business, job_body(), signature="sha256=" + "0" * 64)

    assert response.status_code == 401
    assert "signature" in response.json()["error"]["fields"]
    assert nothing_written()


def test_another_businesss_secret_is_refused(client, business):
    other = make_business("Other Co")

    response = send(client, business, job_body(), secret=other.webhook_secret)

    assert response.status_code == 401
    assert nothing_written()


def test_a_body_changed_after_signing_is_refused(client, business):
    timestamp = str(int(the_clock.now().timestamp()))
    signature = sign_job_webhook(
        secret=business.webhook_secret,
        timestamp=timestamp,
        body=json.dumps(job_body()).encode(),
    )

    response = send(
        client,
        business,
        job_body(external_id="ST-9999"),
        timestamp=timestamp,
        signature=signature,
    )

    assert response.status_code == 401
    assert nothing_written()


@pytest.mark.parametrize("age", [timedelta(minutes=5, seconds=1), timedelta(minutes=-6)])
def test_a_timestamp_outside_five_minutes_is_refused(client, business, age):
    timestamp = int((the_clock.now() - age).timestamp())

    response = send(client, business, job_body(), timestamp=timestamp)

    assert response.status_code == 401
    assert "5 minutes" in response.json()["error"]["fields"]["timestamp"]
    assert nothing_written()


def test_a_timestamp_just_inside_the_window_is_accepted(client, business):
    timestamp = int((the_clock.now() - timedelta(minutes=4, seconds=59)).timestamp())

    assert send(client, business, job_body(), timestamp=timestamp).status_code == 201


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"HTTP_X_TOUCHBASE_TIMESTAMP": "1772463600"}, "signature"),
        ({"HTTP_X_TOUCHBASE_SIGNATURE": "sha256=00"}, "timestamp"),
        (
            {"HTTP_X_TOUCHBASE_TIMESTAMP": "yesterday", "HTTP_X_TOUCHBASE_SIGNATURE": "sha256=0"},
            "timestamp",
        ),
    ],
)
def test_missing_or_malformed_signature_headers_are_named(client, business, headers, field):
    response = client.post(
        f"/hooks/jobs/{business.slug}", "{}", content_type="application/json", **headers
    )

    assert response.status_code == 401
    assert field in response.json()["error"]["fields"]


def test_a_replayed_request_is_refused_and_changes_nothing(client, business, clock):
    timestamp = int(the_clock.now().timestamp())
    send(client, business, job_body(), timestamp=timestamp)
    job = Job.objects.get()
    job.technician_name = "changed by the owner"
    job.save()
    clock.shift(timedelta(minutes=2))

    response = send(client, business, job_body(), timestamp=timestamp)

    assert response.status_code == 409
    assert Job.objects.get().technician_name == "changed by the owner"
    assert Event.objects.filter(source="job_webhook").count() == 1


def test_malformed_json_is_refused_naming_the_body(client, business):
    response = send(client, business, None, raw=b'{"external_id": ')

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["fields"]["body"]
    assert nothing_written()


def test_a_numeric_external_id_is_taken_as_text(client, business):
    response = send(client, business, job_body(external_id=1001))

    assert response.status_code == 201
    assert Job.objects.get().external_id == "1001"


def test_a_body_that_is_not_an_object_is_refused(client, business):
    response = send(client, business, ["ST-1001"])

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"body": "must be a JSON object"}


def test_every_bad_field_is_named_and_nothing_is_written(client, business):
    body = job_body(service_type="chimney", status="finito", enroll="maybe", color="blue")
    body["customer"]["phone"] = "555-1234"
    body["customer"]["email"] = "pat@"

    response = send(client, business, body)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["fields"]) == {
        "service_type",
        "status",
        "enroll",
        "color",
        "customer.phone",
        "customer.email",
    }
    assert "unknown service type 'chimney'" in response.json()["error"]["fields"]["service_type"]
    assert nothing_written()


def test_a_new_job_needs_a_customer_and_a_service_type(client, business):
    response = send(client, business, {"external_id": "ST-1"})

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "service_type": "is required for a new job",
        "customer": "is required for a new job (give customer_id or customer)",
    }
    assert nothing_written()


def test_a_customer_needs_a_name_and_nothing_is_written(client, business):
    body = job_body()
    del body["customer"]["name"]

    response = send(client, business, body)

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"customer.name": "is required"}
    assert nothing_written()


def test_an_unknown_business_is_a_404(client, business):
    response = client.post("/hooks/jobs/nobody", "{}", content_type="application/json")

    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "no business 'nobody'",
        "fields": {},
    }


def test_an_oversized_body_is_refused(client, business):
    body = job_body(notes="x" * 70_000)

    response = send(client, business, body)

    assert response.status_code == 413
    assert nothing_written()


def test_a_get_is_not_allowed(client, business):
    assert client.get(f"/hooks/jobs/{business.slug}").status_code == 405


def test_deeply_nested_json_is_a_400_naming_the_body(client, business):
    response = send(client, business, None, raw=b"[" * 20_000 + b"]" * 20_000)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"body": "is nested too deeply"}
    assert nothing_written()
