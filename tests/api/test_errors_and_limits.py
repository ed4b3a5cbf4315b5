import json
from datetime import timedelta

from django.test import Client

from tests.api.conftest import ApiClient, error_of
from touchbase.api.keys import create_api_key
from touchbase.customers.models import Customer


def test_an_oversized_body_is_refused_with_413_before_anything_is_written(api, settings):
    settings.TOUCHBASE_API_MAX_BODY_BYTES = 1024
    body = {"name": "Big", "email": "big@example.com", "consent_disclosure": "x" * 1500}

    response = api.post("/customers", body)

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert Customer.objects.count() == 0


def test_a_body_that_is_not_json_is_a_400_in_the_same_shape(api):
    response = api.post("/customers", "{not json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_a_deeply_nested_body_is_a_400_naming_the_body(api):
    response = api.post("/jobs", "[" * 50_000 + "]" * 50_000)

    assert response.status_code == 400  # ninja's parser turns the RecursionError into a 400
    assert error_of(response)["code"] == "bad_request"


def test_text_the_database_cannot_store_is_refused_naming_the_field(api):
    response = api.post("/customers", {"name": "Nul\x00l", "email": "a@example.com"})

    assert response.status_code == 422
    assert "name" in error_of(response)["fields"]


def test_an_id_beyond_the_database_range_is_a_422_not_a_crash(api):
    response = api.get(f"/jobs/{2**70}")

    assert response.status_code == 422
    assert "job_id" in error_of(response)["fields"]


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(business, settings, clock):
    settings.TOUCHBASE_API_RATE_LIMIT = {"requests": 3, "period_seconds": 60}
    api = ApiClient(create_api_key(business=business, name="busy").raw_key)
    calm = ApiClient(create_api_key(business=business, name="calm").raw_key)

    answers = [api.get("/customers").status_code for _ in range(4)]
    limited = api.get("/customers")

    assert answers == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited"
    assert int(limited["Retry-After"]) == 20  # one token per 20 s at 3 per minute
    assert calm.get("/customers").status_code == 200  # limits are per key
    clock.shift(timedelta(seconds=20))
    assert api.get("/customers").status_code == 200


def test_the_openapi_document_describes_every_resource():
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = json.loads(response.content)
    paths = set(document["paths"])
    assert {
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/jobs",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/complete",
        "/api/v1/enrollments",
        "/api/v1/enrollments/{enrollment_id}",
        "/api/v1/enrollments/{enrollment_id}/stop",
        "/api/v1/campaigns",
        "/api/v1/campaigns/{campaign_id}",
        "/api/v1/deliveries",
    } <= paths
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    assert "422" in document["paths"]["/api/v1/jobs"]["post"]["responses"]


def test_the_docs_page_is_served_without_a_cdn():
    response = Client().get("/api/v1/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assert "openapi.json" in page
    assert "cdn" not in page.lower()
