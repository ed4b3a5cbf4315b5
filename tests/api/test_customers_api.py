from tests.api.conftest import error_of
from tests.factories import make_customer
from touchbase.customers.models import ConsentRecord, Customer


def test_creating_a_customer_normalises_the_phone_and_records_api_consent(api, business):
    response = api.post(
        "/customers",
        {
            "name": "Maria Lopez",
            "email": "maria@Example.COM",
            "phone": "(415) 555-0123",
            "sms_consent": True,
            "consent_disclosure": "Texts about your service. Reply STOP to opt out.",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == "+14155550123"
    assert body["email"] == "maria@example.com"
    assert body["sms_consent"] == "granted"
    assert body["created_at"].endswith("Z")
    record = ConsentRecord.objects.get(customer_id=body["id"])
    assert record.source == "api"
    assert record.disclosure_text.startswith("Texts about your service")
    assert Customer.objects.get(pk=body["id"]).business == business


def test_a_bad_customer_is_refused_naming_each_bad_field(api):
    response = api.post(
        "/customers", {"name": " ", "email": "nope", "phone": "555", "time_zone": "Mars/Base"}
    )

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"name", "email", "phone", "time_zone"}
    assert "not a valid phone number" in error["fields"]["phone"]
    assert "IANA time zone" in error["fields"]["time_zone"]
    assert Customer.objects.count() == 0


def test_a_customer_without_a_name_fails_schema_validation_naming_it(api):
    response = api.post("/customers", {"email": "a@example.com"})

    assert response.status_code == 422
    assert "name" in error_of(response)["fields"]


def test_reading_and_updating_a_customer(api, business):
    customer = make_customer(business, "Pat Doe", phone="+14155550123")

    read = api.get(f"/customers/{customer.pk}")
    updated = api.patch(f"/customers/{customer.pk}", {"name": "Pat Q. Doe", "phone": ""})

    assert read.status_code == 200 and read.json()["name"] == "Pat Doe"
    assert updated.status_code == 200
    assert updated.json()["name"] == "Pat Q. Doe"
    assert updated.json()["phone"] == ""
    customer.refresh_from_db()
    assert customer.name == "Pat Q. Doe"


def test_an_invalid_update_changes_nothing(api, business):
    customer = make_customer(business, "Pat Doe", email="pat@example.com")

    response = api.patch(f"/customers/{customer.pk}", {"name": "New", "email": "broken"})

    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"email"}
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Pat Doe", "pat@example.com")


def test_customers_are_searched_by_email_and_by_phone_in_any_format(api, business):
    maria = make_customer(business, "Maria", email="maria@example.com", phone="+14155550123")
    make_customer(business, "James", email="james@example.com", phone="+14155550124")

    by_email = api.get("/customers", email="maria@EXAMPLE.com").json()["items"]
    by_phone = api.get("/customers", phone="415-555-0123").json()["items"]
    bad = api.get("/customers", phone="12")

    assert [c["id"] for c in by_email] == [maria.pk]
    assert [c["id"] for c in by_phone] == [maria.pk]
    assert bad.status_code == 422 and "phone" in error_of(bad)["fields"]


def test_lists_page_by_cursor_newest_first(api, business):
    ids = [make_customer(business, f"C{n}").pk for n in range(5)]

    first = api.get("/customers", limit=2).json()
    second = api.get("/customers", limit=2, cursor=first["next_cursor"]).json()
    third = api.get("/customers", limit=2, cursor=second["next_cursor"]).json()

    seen = [c["id"] for page in (first, second, third) for c in page["items"]]
    assert seen == sorted(ids, reverse=True)
    assert third["next_cursor"] is None


def test_a_forged_cursor_or_limit_is_refused(api):
    assert "cursor" in error_of(api.get("/customers", cursor="abc"))["fields"]
    assert "limit" in error_of(api.get("/customers", limit=1000))["fields"]
