import pytest
from django.core.exceptions import ValidationError

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import ConsentRecord, Customer, SmsSuppression
from touchbase.customers.services import (
    create_customer,
    delete_customer,
    record_sms_consent,
    update_customer,
)
from touchbase.delivery.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    return make_business()


@pytest.mark.parametrize(
    "typed", ["(305) 555-0142", "305.555.0142", "+1 305 555 0142", "1-305-555-0142"]
)
def test_us_phone_formats_are_stored_as_e164(business, typed):
    customer = create_customer(business=business, name="Maria", phone=typed)

    assert customer.phone == "+13055550142"


@pytest.mark.parametrize("typed", ["555-1234", "12345", "not a number", "+1 000 000 0000"])
def test_invalid_phone_is_refused_naming_the_field(business, typed):
    with pytest.raises(ValidationError) as error:
        create_customer(business=business, name="Maria", phone=typed)

    assert error.value.message_dict == {"phone": [f"{typed!r} is not a valid phone number"]}
    assert not Customer.objects.exists()


def test_every_bad_field_is_named_at_once(business):
    with pytest.raises(ValidationError) as error:
        create_customer(
            business=business, name=" ", email="maria@", phone="12", time_zone="Mars/Olympus"
        )

    assert set(error.value.message_dict) == {"name", "email", "phone", "time_zone"}
    assert "not a valid email address" in error.value.message_dict["email"][0]
    assert "not an IANA time zone" in error.value.message_dict["time_zone"][0]


def test_email_is_stored_in_lower_case(business):
    customer = create_customer(business=business, name="Maria", email=" Maria@Example.COM ")

    assert customer.email == "maria@example.com"


def test_failed_update_changes_nothing(business):
    customer = make_customer(business, email="ok@example.com", phone="3055550142")

    with pytest.raises(ValidationError):
        update_customer(customer=customer, email="ok2@example.com", phone="nope")

    assert Customer.objects.get(pk=customer.pk).email == "ok@example.com"


def test_consent_at_creation_writes_a_consent_record(business):
    customer = create_customer(
        business=business,
        name="Maria",
        phone="3055550142",
        sms_consent=True,
        consent_source="api",
        consent_disclosure="Reply STOP to opt out.",
        recorded_by="key tb_1",
    )

    record = ConsentRecord.objects.get(customer=customer)
    assert customer.sms_consent == "granted"
    assert (record.phone, record.action, record.source, record.disclosure_text) == (
        "+13055550142",
        "opt_in",
        "api",
        "Reply STOP to opt out.",
    )
    assert record.created_at is not None and record.recorded_by == "key tb_1"


def test_opt_out_suppresses_the_number_even_for_a_new_customer(business):
    customer = make_customer(business, phone="3055550142", sms_consent=True)
    record_sms_consent(customer=customer, granted=False, source="keyword")

    delete_customer(customer=customer)
    again = create_customer(business=business, name="Maria again", phone="305-555-0142")

    assert again.sms_consent == "revoked"
    assert SmsSuppression.objects.filter(phone="+13055550142").exists()
    assert ConsentRecord.objects.filter(phone="+13055550142").count() == 2  # kept after delete
    with pytest.raises(ValidationError) as error:
        record_sms_consent(customer=again, granted=True, source="form")
    assert "only the customer can opt back in" in error.value.message_dict["sms_consent"][0]


def test_start_keyword_lifts_the_suppression(business):
    customer = make_customer(business, phone="3055550142", sms_consent=True)
    record_sms_consent(customer=customer, granted=False, source="keyword")

    record_sms_consent(customer=customer, granted=True, source="keyword")

    assert Customer.objects.get(pk=customer.pk).sms_consent == "granted"
    assert not SmsSuppression.objects.exists()


def test_changing_the_phone_number_resets_consent(business):
    customer = make_customer(business, phone="3055550142", sms_consent=True)

    update_customer(customer=customer, phone="2125550123")

    assert Customer.objects.get(pk=customer.pk).sms_consent == "unknown"


def test_deleting_a_customer_stops_the_sequence(business):
    make_campaign(business)
    customer = make_customer(business)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id

    delete_customer(customer=customer)

    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "customer_deleted")
    assert Delivery.objects.get(enrollment=enrollment).status == "cancelled"
