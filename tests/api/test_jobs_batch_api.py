"""POST /api/v1/jobs:batch: many jobs in one call, each refused or written on its own."""

from tests.api.conftest import error_of
from tests.factories import make_campaign
from touchbase.campaigns.models import Enrollment
from touchbase.jobs.models import Job


def job(n, **overrides):
    body = {
        "external_id": f"fsm-{n}",
        "service_type": "hvac",
        "status": "completed",
        "customer": {"name": f"Person {n}", "email": f"p{n}@example.com"},
    }
    return {**body, **overrides}


def test_each_job_gets_its_own_result_and_a_bad_one_stops_nothing(api, business, clock):
    make_campaign(business, service_type="hvac")
    api.post("/jobs", job(1, status="scheduled"))

    response = api.post(
        "/jobs:batch",
        {"jobs": [job(1), job(2, service_type="teleport"), job(3, customer_id="x"), job(4)]},
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [200, 422, 422, 201]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert "unknown service type" in results[1]["error"]["fields"]["service_type"]
    assert "customer_id" in results[2]["error"]["fields"]
    assert results[0]["job"]["enrollment"]["outcome"] == "enrolled"  # completed by the batch
    assert results[3]["job"]["external_id"] == "fsm-4"
    assert set(Job.objects.values_list("external_id", flat=True)) == {"fsm-1", "fsm-4"}
    assert Enrollment.objects.count() == 2


def test_a_batch_over_1000_jobs_is_refused_whole(api, business):
    response = api.post("/jobs:batch", {"jobs": [job(n) for n in range(1001)]})

    assert response.status_code in (413, 422)
    assert not Job.objects.exists()


def test_an_empty_batch_is_refused(api, business):
    response = api.post("/jobs:batch", {"jobs": []})

    assert response.status_code == 422
    assert "jobs" in error_of(response)["fields"]


def test_the_batch_skips_a_customer_in_cooldown_recent_or_earlier_in_the_same_batch(
    api, business, clock
):
    make_campaign(business, service_type="hvac")
    api.post("/jobs", job(1))  # p1 enrolled just now
    fresh = {"name": "New Person", "email": "new@example.com"}

    response = api.post(
        "/jobs:batch",
        {
            "jobs": [
                job(2, customer=job(1)["customer"]),
                job(3, customer=fresh),
                job(4, customer=fresh),
            ]
        },
    )

    outcomes = [r["job"]["enrollment"] for r in response.json()["results"]]
    assert [o["outcome"] for o in outcomes] == ["skipped", "enrolled", "skipped"]
    assert outcomes[0]["reason"] == outcomes[2]["reason"] == "cooldown"
    assert Job.objects.get(external_id="fsm-4").enrollment_reason == "cooldown"
    assert Enrollment.objects.count() == 2
