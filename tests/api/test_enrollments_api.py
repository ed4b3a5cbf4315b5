from datetime import timedelta

from tests.api.conftest import error_of
from tests.factories import complete_job, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.models import Delivery


def test_an_enrollment_reads_with_its_delivery_timeline(api, business):
    make_campaign(business, service_type="hvac")
    job = complete_job(business, make_customer(business)).job
    enrollment = Enrollment.objects.get(job=job)

    body = api.get(f"/enrollments/{enrollment.pk}").json()

    assert body["status"] == "active" and body["job_id"] == job.pk
    assert [(d["position"], d["channel"], d["status"]) for d in body["deliveries"]] == [
        (1, "email", "pending")
    ]
    assert body["deliveries"][0]["scheduled_at"].endswith("Z")


def test_enrollments_are_listed_with_filters(api, business, clock):
    hvac = make_campaign(business, service_type="hvac")
    plumbing = make_campaign(business, "conservative", service_type="plumbing")
    first = complete_job(business, make_customer(business), external_id="E-1").job
    clock.shift(timedelta(minutes=5))
    second = complete_job(business, make_customer(business), "plumbing").job
    api.post(f"/enrollments/{Enrollment.objects.get(job=first).pk}/stop")

    def ids(**params):
        return [e["job_id"] for e in api.get("/enrollments", **params).json()["items"]]

    assert ids() == [second.pk, first.pk]
    assert ids(status="stopped") == [first.pk]
    assert ids(status="active") == [second.pk]
    assert ids(stop_reason="owner_stopped") == [first.pk]
    assert ids(campaign_id=hvac.pk) == [first.pk]
    assert ids(campaign_id=plumbing.pk) == [second.pk]
    assert ids(job_external_id="E-1") == [first.pk]
    assert ids(customer_id=second.customer_id) == [second.pk]
    assert ids(job_id=first.pk) == [first.pk]
    assert "status" in error_of(api.get("/enrollments", status="paused"))["fields"]


def test_stopping_an_enrollment_cancels_its_pending_touch_and_is_idempotent(api, business):
    make_campaign(business, service_type="hvac")
    job = complete_job(business, make_customer(business)).job
    enrollment = Enrollment.objects.get(job=job)

    stopped = api.post(f"/enrollments/{enrollment.pk}/stop")
    again = api.post(f"/enrollments/{enrollment.pk}/stop")

    assert stopped.status_code == again.status_code == 200
    assert stopped.json()["status"] == "stopped"
    assert stopped.json()["stop_reason"] == "owner_stopped"
    assert stopped.json()["deliveries"][0]["status"] == "cancelled"
    assert again.json()["stopped_at"] == stopped.json()["stopped_at"]


def test_manual_enroll_bypasses_the_cooldown(api, business, clock):
    make_campaign(business, service_type="hvac")
    customer = make_customer(business)
    complete_job(business, customer)
    clock.shift(timedelta(days=3))
    repeat = complete_job(business, customer).job  # cooldown: skipped
    assert repeat.enrollment_reason == "cooldown"

    response = api.post("/enrollments", {"job_id": repeat.pk})

    assert response.status_code == 200
    result = response.json()
    assert result["success"] is True
    enrollment = Enrollment.objects.get(pk=result["enrollment_id"])
    assert enrollment.manual is True and enrollment.job_id == repeat.pk
    assert Enrollment.objects.filter(customer=customer, status="active").count() == 1


def test_manual_enroll_reports_why_nothing_happened(api, business):
    make_campaign(business, service_type="hvac")
    job = complete_job(business, make_customer(business)).job

    again = api.post("/enrollments", {"job_id": job.pk}).json()

    assert again["success"] is False
    assert again["skip_reason"] == "already_enrolled"


def test_manual_enroll_into_a_named_campaign(api, business):
    make_campaign(business, service_type="hvac")
    special = make_campaign(business, "aggressive", service_type="plumbing")
    job = complete_job(business, make_customer(business), enroll_in_campaign=False).job

    result = api.post("/enrollments", {"job_id": job.pk, "campaign_id": special.pk}).json()

    assert result["success"] is True
    assert Enrollment.objects.get(pk=result["enrollment_id"]).campaign == special
    assert Delivery.objects.get(enrollment_id=result["enrollment_id"]).channel == "sms"


def test_manual_enroll_names_missing_job_and_campaign(api, business):
    response = api.post("/enrollments", {"job_id": 999999, "campaign_id": 999999})

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"job_id", "campaign_id"}
