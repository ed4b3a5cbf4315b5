"""A key sees only its own business: every route, probed with another business's ids,
answers 404 (or, for ids inside a body, 422 "not found") and changes nothing."""

import pytest

from tests.api.conftest import error_of
from tests.factories import complete_job, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.jobs.models import Job


@pytest.fixture
def theirs(other_business):
    campaign = make_campaign(other_business, service_type="hvac")
    customer = make_customer(other_business, "Their Customer", email="theirs@example.com")
    job = complete_job(other_business, customer, external_id="THEIRS-1").job
    return {
        "customer": customer,
        "job": job,
        "campaign": campaign,
        "enrollment": Enrollment.objects.get(job=job),
    }


PATH_PROBES = [
    ("get", "/customers/{customer}", None),
    ("patch", "/customers/{customer}", {"name": "Hijacked"}),
    ("get", "/jobs/{job}", None),
    ("patch", "/jobs/{job}", {"notes": "hijacked"}),
    ("post", "/jobs/{job}/complete", {}),
    ("get", "/enrollments/{enrollment}", None),
    ("post", "/enrollments/{enrollment}/stop", {}),
    ("get", "/campaigns/{campaign}", None),
]


@pytest.mark.parametrize(("method", "template", "body"), PATH_PROBES)
def test_another_business_ids_answer_404(api, theirs, method, template, body):
    path = template.format(**{name: obj.pk for name, obj in theirs.items()})

    response = api.get(path) if method == "get" else getattr(api, method)(path, body)

    assert response.status_code == 404
    assert error_of(response) == {
        "code": "not_found",
        "message": error_of(response)["message"],
        "fields": {},
    }
    assert "Their" not in response.content.decode()


def test_probing_changes_nothing_of_the_other_business(api, theirs):
    for method, template, body in PATH_PROBES:
        path = template.format(**{name: obj.pk for name, obj in theirs.items()})
        getattr(api, method)(path, body) if body is not None else api.get(path)

    theirs["customer"].refresh_from_db()
    theirs["job"].refresh_from_db()
    assert theirs["customer"].name == "Their Customer"
    assert theirs["job"].notes == ""
    assert Enrollment.objects.get(pk=theirs["enrollment"].pk).status == "active"


def test_an_unknown_id_answers_exactly_like_another_business_id(api, theirs):
    foreign = api.get(f"/jobs/{theirs['job'].pk}")
    missing = api.get("/jobs/987654321")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_lists_never_show_another_business_rows_whatever_the_filter(api, theirs):
    probes = {
        "/customers": {"email": "theirs@example.com"},
        "/jobs": {"external_id": "THEIRS-1", "customer_id": theirs["customer"].pk},
        "/enrollments": {"job_id": theirs["job"].pk, "campaign_id": theirs["campaign"].pk},
        "/campaigns": {},
        "/deliveries": {"enrollment_id": theirs["enrollment"].pk},
    }
    for path, params in probes.items():
        assert api.get(path, **params).json()["items"] == [], path
        assert api.get(path).json()["items"] == [], path


def test_a_job_cannot_name_another_business_customer(api, theirs):
    response = api.post("/jobs", {"customer_id": theirs["customer"].pk, "service_type": "hvac"})

    assert response.status_code == 422
    assert error_of(response)["fields"] == {"customer_id": "not found for this business"}
    assert Job.objects.filter(customer=theirs["customer"]).count() == 1


def test_a_job_cannot_be_moved_to_another_business_customer(api, business, theirs):
    mine = complete_job(business, make_customer(business)).job

    response = api.patch(f"/jobs/{mine.pk}", {"customer_id": theirs["customer"].pk})

    assert response.status_code == 422
    assert "customer_id" in error_of(response)["fields"]


def test_manual_enroll_cannot_use_another_business_job_or_campaign(api, business, theirs):
    mine = complete_job(business, make_customer(business), enroll_in_campaign=False).job

    foreign_job = api.post("/enrollments", {"job_id": theirs["job"].pk})
    foreign_campaign = api.post(
        "/enrollments", {"job_id": mine.pk, "campaign_id": theirs["campaign"].pk}
    )

    assert error_of(foreign_job)["fields"] == {"job_id": "not found for this business"}
    assert error_of(foreign_campaign)["fields"] == {"campaign_id": "not found for this business"}
    assert Enrollment.objects.filter(job=mine).count() == 0


def test_the_same_external_id_in_two_businesses_is_two_jobs(api, other_api, business, theirs):
    payload = {
        "external_id": "THEIRS-1",
        "service_type": "hvac",
        "customer": {"name": "Mine", "email": "mine@example.com"},
    }

    response = api.post("/jobs", payload)

    assert response.status_code == 201
    assert response.json()["id"] != theirs["job"].pk
    assert Job.objects.get(pk=theirs["job"].pk).customer == theirs["customer"]
