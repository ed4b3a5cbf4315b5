"""Who can be reached on which channel, and when an opt-out ends a sequence (PRODUCT §4)."""

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.campaigns.models import Enrollment
from touchbase.customers.models import ConsentRecord
from touchbase.customers.reachability import email_block, sms_block
from touchbase.customers.services import (
    mark_phone_unusable,
    record_email_bounce,
    record_email_opt_out,
    record_sms_opt_out,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    return make_business()


def test_email_block_reasons(business):
    assert email_block(make_customer(business, email="")) == "no_email"
    customer = make_customer(business)
    assert email_block(customer) is None
    record_email_bounce(customer=customer)
    assert email_block(customer) == "email_bounced"
    other = make_customer(business)
    record_email_opt_out(customer=other)
    assert email_block(other) == "email_opted_out"


def test_sms_block_reasons(business):
    assert sms_block(make_customer(business)) == "no_phone"
    assert sms_block(make_customer(business, phone="3055550142")) == "no_sms_consent"
    customer = make_customer(business, phone="3055550143", sms_consent=True)
    assert sms_block(customer) is None
    mark_phone_unusable(customer=customer, reason="landline")
    assert sms_block(customer) == "phone_landline"
    opted_out = make_customer(business, phone="3055550144", sms_consent=True)
    record_sms_opt_out(customer=opted_out, source="keyword")
    assert sms_block(opted_out) == "sms_opted_out"


def test_sms_opt_out_leaves_a_sequence_with_email_touches_running(business):
    make_campaign(business, "standard")  # email, email, sms
    customer = make_customer(business, phone="3055550142", sms_consent=True)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id

    record_sms_opt_out(customer=customer, source="keyword")

    assert Enrollment.objects.get(pk=enrollment_id).status == "active"
    assert ConsentRecord.objects.filter(customer=customer).latest("id").action == "opt_out"


def test_sms_opt_out_stops_a_sequence_with_only_sms_left(business):
    make_campaign(business, "standard")
    customer = make_customer(business, phone="3055550142", sms_consent=True)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id
    Enrollment.objects.filter(pk=enrollment_id).update(current_position=3)  # the SMS touch

    record_sms_opt_out(customer=customer, source="keyword")

    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "opted_out_sms")


def test_email_opt_out_stops_an_email_only_sequence(business):
    make_campaign(business, "conservative")  # email, email
    customer = make_customer(business, phone="3055550142", sms_consent=True)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id

    assert record_email_opt_out(customer=customer) is True
    assert record_email_opt_out(customer=customer) is False

    enrollment = Enrollment.objects.get(pk=enrollment_id)
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "opted_out_email")
    assert enrollment.deliveries.get().status == "cancelled"


def test_hard_bounce_skips_email_without_stopping(business):
    make_campaign(business, "conservative")
    customer = make_customer(business)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id

    record_email_bounce(customer=customer)

    assert Enrollment.objects.get(pk=enrollment_id).status == "active"
