"""A customer's language (issue 16) comes in through every intake path — API customers and
job payloads, the batch API, the job webhook, CSV (column `language`) and the web forms —
and a bad one is refused naming the field, in each path's one error shape."""

import io
import json

import pytest

from tests.api.conftest import ApiClient
from tests.factories import make_business, make_campaign, make_user
from touchbase import clock as the_clock
from touchbase.api.keys import create_api_key
from touchbase.customers.models import Customer
from touchbase.imports.importing import import_customers, import_jobs
from touchbase.inbound.signatures import sign_job_webhook
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db


def payload(language: str) -> dict:
    return {
        "external_id": "ST-2001",
        "service_type": "hvac",
        "status": "completed",
        "customer": {"name": "María López", "phone": "(305) 555-0142", "language": language},
    }


@pytest.fixture
def business(clock):
    business = make_business("Cool Air HVAC")
    make_campaign(business, "standard")
    return business


def api(business) -> ApiClient:
    return ApiClient(create_api_key(business=business, name="sync").raw_key)


def owner(client, business):
    user = make_user()
    add_member(business=business, user=user, role="owner")
    client.force_login(user)
    return client


def via_api(client, business, language):
    return api(business).post("/jobs", payload(language))


def via_batch_api(client, business, language):
    return api(business).post("/jobs:batch", {"jobs": [payload(language)]})


def via_webhook(client, business, language):
    body = json.dumps(payload(language)).encode()
    timestamp = str(int(the_clock.now().timestamp()))
    return client.post(
        f"/hooks/jobs/{business.slug}",
        body,
        content_type="application/json",
        HTTP_X_TOUCHBASE_TIMESTAMP=timestamp,
        HTTP_X_TOUCHBASE_SIGNATURE=sign_job_webhook(
            secret=business.webhook_secret, timestamp=timestamp, body=body
        ),
    )


def via_csv(client, business, language):
    text = (
        f"Job ID,Name,Phone,Service,Language\nST-2001,María López,(305) 555-0142,hvac,{language}\n"
    )
    return import_jobs(business=business, source=io.BytesIO(text.encode()))


def via_web_form(client, business, language):
    return owner(client, business).post(
        "/jobs/new/",
        {
            "new_customer_name": "María López",
            "new_customer_phone": "(305) 555-0142",
            "new_customer_language": language,
            "service_type": "hvac",
            "status": "completed",
            "enroll_in_campaign": "on",
        },
    )


ENTRY_POINTS = [via_api, via_batch_api, via_webhook, via_csv, via_web_form]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_every_job_entry_point_gives_the_new_customer_their_language(entry_point, client, business):
    entry_point(client, business, "es")

    assert Customer.objects.get(business=business).language == "es"


@pytest.mark.parametrize("entry_point", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_a_customer_given_no_language_takes_the_businesss_default(entry_point, client, business):
    entry_point(client, business, "")

    customer = Customer.objects.get(business=business)
    assert customer.language == ""  # follows the business's setting, whatever it becomes


def test_the_api_refuses_an_unknown_language_naming_the_field(business):
    response = via_api(None, business, "fr")

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "customer.language": "'fr' is not a language touchbase writes in (en or es)"
    }
    assert not Customer.objects.exists()


def test_the_batch_api_refuses_that_job_alone(business):
    result = via_batch_api(None, business, "klingon").json()["results"][0]

    assert result["status"] == 422 and "customer.language" in result["error"]["fields"]


def test_the_webhook_refuses_an_unknown_language_naming_the_field(client, business):
    response = via_webhook(client, business, "fr")

    assert response.status_code == 422
    assert "customer.language" in response.json()["error"]["fields"]
    assert not Customer.objects.exists()


def test_a_csv_row_with_an_unknown_language_is_reported_under_its_column(business):
    report = via_csv(None, business, "French")

    assert (report.created, report.failed) == (0, 1)
    (error,) = report.first_errors
    assert (error.row, error.column) == (2, "language")
    assert "'French' is not a language" in error.reason


@pytest.mark.parametrize("cell", ["es", "ES", "Spanish", "español", "es-MX"])
def test_csv_language_cells_are_read_generously(business, cell):
    text = f"Name,Phone,Idioma\nMaría López,(305) 555-0142,{cell}\n"

    report = import_customers(business=business, source=io.BytesIO(text.encode()))

    assert report.failed == 0, report.first_errors
    assert Customer.objects.get().language == "es"


def test_the_web_form_refuses_an_unknown_language_beside_its_field(client, business):
    response = via_web_form(client, business, "fr")

    assert response.status_code == 200
    assert "new_customer_language" in response.context["form"].errors
    assert not Customer.objects.exists()


def test_api_customers_carry_their_language(business):
    client = api(business)

    created = client.post("/customers", {"name": "Ana", "phone": "3055550143", "language": "es"})
    patched = client.patch(f"/customers/{created.json()['id']}", {"language": "en"})
    refused = client.post("/customers", {"name": "Bo", "phone": "3055550144", "language": "de"})

    assert created.status_code == 201 and created.json()["language"] == "es"
    assert patched.json()["language"] == "en"
    assert refused.status_code == 422 and "language" in refused.json()["error"]["fields"]


def test_the_openapi_document_describes_the_language(business):
    schemas = api(business).get("/openapi.json").json()["components"]["schemas"]

    for name in ("CustomerIn", "CustomerPatch", "CustomerOut", "JobCustomerIn"):
        assert "language" in schemas[name]["properties"], name


def test_the_customer_form_sets_and_shows_the_language(client, business):
    owner(client, business)

    response = client.post(
        "/customers/new/", {"name": "Ana Ruiz", "language": "es", "email": "ana@example.com"}
    )
    customer = Customer.objects.get()
    detail = client.get(f"/customers/{customer.pk}/").content.decode()

    assert response.status_code == 302 and customer.language == "es"
    assert "Spanish (español)" in detail


def test_the_business_default_language_is_a_setting(client, business):
    owner(client, business)
    form = client.get("/settings/").context["form"]
    values = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    values.update(
        send_window_start="09:00",
        send_window_end="20:00",
        service_types=business.service_types,
        default_customer_language="es",
    )

    response = client.post("/settings/", values)

    business.refresh_from_db()
    assert response.status_code == 302, response.context["form"].errors
    assert business.default_customer_language == "es"
