from datetime import timedelta

from tests.api.conftest import error_of
from tests.factories import complete_job, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import Customer
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.jobs.services import create_job

INLINE_CUSTOMER = {"name": "Maria Lopez", "email": "maria@example.com", "phone": "4155550123"}


def test_a_completed_job_with_an_inline_customer_enrolls_that_customer(api, business, clock):
    make_campaign(business, service_type="hvac")

    response = api.post(
        "/jobs",
        {
            "external_id": "fsm-1042",
            "service_type": "HVAC",
            "status": "completed",
            "technician_name": "Luis",
            "customer": INLINE_CUSTOMER,
        },
    )

    assert response.status_code == 201
    job = response.json()
    assert job["service_type"] == "hvac"
    assert job["completed_at"] == "2026-03-02T15:00:00Z"
    assert job["enrollment"]["outcome"] == "enrolled"
    enrollment = Enrollment.objects.get(pk=job["enrollment"]["enrollment_id"])
    assert enrollment.customer.phone == "+14155550123"
    assert (
        Delivery.objects.get(enrollment=enrollment)
        .scheduled_at.isoformat()
        .startswith("2026-03-03T15:00")
    )


def test_the_same_external_id_again_updates_the_job_and_never_duplicates_it(api, business):
    make_campaign(business, service_type="hvac")
    payload = {"external_id": "wo-7", "service_type": "hvac", "customer": INLINE_CUSTOMER}

    first = api.post("/jobs", payload)
    second = api.post("/jobs", {**payload, "status": "completed", "notes": "done"})
    third = api.post("/jobs", {**payload, "status": "completed", "notes": "done"})

    assert (first.status_code, second.status_code, third.status_code) == (201, 200, 200)
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    assert Job.objects.count() == 1 and Customer.objects.count() == 1
    assert second.json()["status"] == "completed" and second.json()["notes"] == "done"
    assert Enrollment.objects.count() == 1  # completing it twice enrolled once


def test_an_upsert_that_omits_status_keeps_the_jobs_status(api, business):
    payload = {"external_id": "wo-8", "service_type": "hvac", "customer": INLINE_CUSTOMER}
    api.post("/jobs", {**payload, "status": "completed", "enroll_in_campaign": False})

    again = api.post("/jobs", {**payload, "notes": "called back"})

    assert again.status_code == 200
    assert again.json()["status"] == "completed"


def test_the_enroll_flag_false_saves_the_completed_job_without_enrolling(api, business):
    make_campaign(business, service_type="hvac")
    customer = make_customer(business)

    response = api.post(
        "/jobs",
        {
            "customer_id": customer.pk,
            "service_type": "hvac",
            "status": "completed",
            "enroll_in_campaign": False,
        },
    )

    assert response.status_code == 201
    assert response.json()["enrollment"]["outcome"] == ""
    assert Enrollment.objects.count() == 0


def test_a_skipped_enrollment_is_reported_on_the_job(api, business):
    customer = make_customer(business)

    response = api.post(
        "/jobs", {"customer_id": customer.pk, "service_type": "roofing", "status": "completed"}
    )

    assert response.status_code == 201
    assert response.json()["enrollment"]["outcome"] == "skipped"
    assert response.json()["enrollment"]["reason"] == "no_matching_campaign"


def test_a_bad_job_is_refused_naming_each_bad_field(api, business):
    response = api.post(
        "/jobs",
        {
            "service_type": "spaceships",
            "status": "finished-ish",
            "customer": {"name": "X", "phone": "123", "email": "not-an-email"},
        },
    )

    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert "customer.phone" in fields and "customer.email" in fields
    assert "unknown service type" in fields["service_type"]
    assert Job.objects.count() == 0 and Customer.objects.count() == 0


def test_a_job_needs_exactly_one_way_to_name_its_customer(api, business):
    customer = make_customer(business)

    neither = api.post("/jobs", {"service_type": "hvac"})
    both = api.post(
        "/jobs", {"service_type": "hvac", "customer_id": customer.pk, "customer": INLINE_CUSTOMER}
    )

    assert "customer" in error_of(neither)["fields"]
    assert "customer" in error_of(both)["fields"]


def test_unknown_status_from_the_service_names_the_field(api, business):
    customer = make_customer(business)

    response = api.post(
        "/jobs", {"customer_id": customer.pk, "service_type": "hvac", "status": "teleported"}
    )

    assert response.status_code == 422
    assert "status" in error_of(response)["fields"]


def test_patching_a_job_to_completed_enrolls_and_the_flag_can_prevent_it(api, business):
    make_campaign(business, service_type="hvac")
    first = create_job(business=business, customer=make_customer(business), service_type="hvac")
    second = create_job(business=business, customer=make_customer(business), service_type="hvac")

    enrolled = api.patch(f"/jobs/{first.job.pk}", {"status": "completed"})
    quiet = api.patch(
        f"/jobs/{second.job.pk}", {"status": "completed", "enroll_in_campaign": False}
    )

    assert enrolled.json()["enrollment"]["outcome"] == "enrolled"
    assert quiet.json()["status"] == "completed"
    assert quiet.json()["enrollment"]["outcome"] == ""
    assert Enrollment.objects.count() == 1


def test_patching_with_a_bad_value_names_it_and_changes_nothing(api, business):
    job = create_job(business=business, customer=make_customer(business), service_type="hvac").job

    response = api.patch(f"/jobs/{job.pk}", {"service_type": "boats", "notes": "x"})

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"service_type"}
    job.refresh_from_db()
    assert job.notes == ""


def test_mark_completed_enrolls_once_and_honours_the_flag(api, business):
    make_campaign(business, service_type="hvac")
    job = create_job(business=business, customer=make_customer(business), service_type="hvac").job
    other = create_job(business=business, customer=make_customer(business), service_type="hvac")

    done = api.post(f"/jobs/{job.pk}/complete")
    again = api.post(f"/jobs/{job.pk}/complete")
    quiet = api.post(f"/jobs/{other.job.pk}/complete", {"enroll_in_campaign": False})

    assert done.status_code == again.status_code == 200
    assert done.json()["status"] == "completed"
    assert done.json()["enrollment"]["outcome"] == "enrolled"
    assert quiet.json()["status"] == "completed"
    assert Enrollment.objects.count() == 1


def test_jobs_are_listed_with_filters(api, business, clock):
    customer = make_customer(business)
    done = complete_job(business, customer, "hvac", external_id="A").job
    clock.shift(timedelta(days=2))
    planned = create_job(
        business=business, customer=customer, service_type="plumbing", external_id="B"
    ).job

    def ids(**params):
        return [job["id"] for job in api.get("/jobs", **params).json()["items"]]

    assert ids() == [planned.pk, done.pk]
    assert ids(status="completed") == [done.pk]
    assert ids(service_type="plumbing") == [planned.pk]
    assert ids(external_id="A") == [done.pk]
    assert ids(customer_id=customer.pk) == [planned.pk, done.pk]
    assert ids(enrollment_outcome="skipped") == [done.pk]
    assert ids(completed_after="2026-03-02T00:00:00Z") == [done.pk]
    assert ids(completed_before="2026-03-01T00:00:00Z") == []
    assert error_of(api.get("/jobs", status="nope"))["fields"].keys() == {"status"}


def test_reading_a_job_shows_its_latest_enrollment(api, business):
    make_campaign(business, service_type="hvac")
    job = complete_job(business, make_customer(business)).job

    body = api.get(f"/jobs/{job.pk}").json()

    assert body["enrollment"]["enrollment_id"] == Enrollment.objects.get(job=job).pk


def test_a_known_external_id_is_updated_without_a_customer_or_service_type(api, business):
    api.post("/jobs", {"external_id": "fsm-9", "service_type": "hvac", "customer": INLINE_CUSTOMER})

    response = api.post("/jobs", {"external_id": "fsm-9", "technician_name": "Dana"})

    assert response.status_code == 200
    assert response.json()["technician_name"] == "Dana"
    assert Job.objects.get(external_id="fsm-9").customer.email == "maria@example.com"
