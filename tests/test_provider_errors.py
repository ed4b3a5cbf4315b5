import pytest

from tests.factories import make_business, make_customer
from touchbase.customers.models import ConsentRecord
from touchbase.customers.reachability import sms_block
from touchbase.delivery.provider_errors import apply_to_customer, classify_twilio


@pytest.mark.parametrize(
    ("code", "status", "permanent"),
    [
        ("21211", 400, True),
        ("21614", 400, True),
        ("30005", None, True),
        ("30006", None, True),
        ("21610", 400, True),
        ("30007", None, True),
        ("30003", None, False),
        ("30008", None, False),
        ("20429", 429, False),
        (None, 429, False),
        (None, 500, False),
        (None, 503, False),
        (None, None, False),
        ("99999", 400, True),
    ],
)
def test_twilio_codes_are_classified_as_product_section_8_says(code, status, permanent):
    assert classify_twilio(code, status).permanent is permanent


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "block"),
    [
        ("21211", "phone_invalid"),
        ("21614", "phone_landline"),
        ("30005", "phone_unknown_handset"),
        ("21610", "sms_opted_out"),
        ("30007", None),
    ],
)
def test_permanent_errors_update_the_customer(code, block):
    customer = make_customer(make_business(), phone="3055550142", sms_consent=True)

    apply_to_customer(customer, classify_twilio(code, 400))

    assert sms_block(customer) == block
    if code == "21610":
        assert ConsentRecord.objects.filter(customer=customer).latest("id").source == "carrier"
