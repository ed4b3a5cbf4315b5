"""What the engine does with each provider answer, through the real Twilio client talking to
a local HTTP stand-in of the Messages API."""

from datetime import timedelta

import pytest

from tests.delivery.test_transports import twilio_transport
from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.servers import Behaviour
from touchbase import clock as touchbase_clock
from touchbase.customers.models import ConsentRecord, Customer, SmsSuppression
from touchbase.delivery.backends.email import DjangoEmailTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db
PHONE = "+13055550142"


@pytest.fixture
def twilio_engine(twilio, mailoutbox):
    transport = twilio_transport(twilio, status_callback_url="", timeout=1)
    return DeliveryEngine(
        batch_size=10,
        concurrency=4,
        lease_seconds=60,
        owner="outcome-test",
        transports={
            "sms": transport,
            "email": DjangoEmailTransport("django.core.mail.backends.locmem.EmailBackend"),
        },
    )


@pytest.fixture
def sms_delivery(clock):
    business = make_business(email_hourly_limit=1000, sms_hourly_limit=1000)
    make_campaign(business, "aggressive")  # SMS 4 h, email 24 h, SMS 72 h, email 168 h
    customer = make_customer(business, "Maria Lopez", phone=PHONE, sms_consent=True)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id
    delivery = Delivery.objects.get(enrollment_id=enrollment_id)
    clock.move_to(delivery.send_after, tick=False)
    return delivery


def fresh(delivery):
    return Delivery.objects.get(pk=delivery.pk)


def second_touch(delivery):
    return Delivery.objects.filter(enrollment_id=delivery.enrollment_id, position=2).first()


def test_a_sent_sms_stores_the_provider_id_and_latency(twilio, twilio_engine, sms_delivery):
    twilio_engine.run_batch()

    delivery = fresh(sms_delivery)
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert delivery.status == "sent" and delivery.provider == "twilio"
    assert delivery.provider_message_id.startswith("SM")
    assert (attempt.outcome, attempt.provider_message_id) == ("sent", delivery.provider_message_id)
    assert attempt.latency_ms >= 0 and attempt.response == "queued"
    assert twilio.requests[0]["form"]["Body"] == delivery.body_text


def test_transient_errors_retry_after_1_5_15_minutes_then_fail_and_the_sequence_continues(
    twilio, twilio_engine, sms_delivery, clock
):
    twilio.default = Behaviour(status=500)
    waits = []
    for _ in range(4):
        twilio_engine.run_batch()
        delivery = fresh(sms_delivery)
        if delivery.status == "pending":
            waits.append(delivery.send_after - touchbase_clock.now())
            clock.move_to(delivery.send_after, tick=False)

    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15)]
    assert (delivery.status, delivery.attempts) == ("failed", 4)
    assert (
        list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("outcome", flat=True))
        == ["transient"] * 4
    )
    assert second_touch(delivery).status == "pending"
    assert len(twilio.requests) == 4


def test_a_rate_limit_is_retried(twilio, twilio_engine, sms_delivery, clock):
    twilio.default = Behaviour(status=429, code=20429)
    twilio_engine.run_batch()
    assert (fresh(sms_delivery).status, fresh(sms_delivery).defer_reason) == ("pending", "retry")

    twilio.default = Behaviour()
    clock.shift(timedelta(minutes=1))
    twilio_engine.run_batch()
    assert fresh(sms_delivery).status == "sent" and fresh(sms_delivery).attempts == 2


@pytest.mark.parametrize(("code", "unusable"), [(21211, "invalid"), (21614, "landline")])
def test_an_unusable_number_fails_at_once_and_marks_the_customer(
    twilio, twilio_engine, sms_delivery, code, unusable
):
    twilio.default = Behaviour(status=400, code=code)

    twilio_engine.run_batch()

    delivery = fresh(sms_delivery)
    assert (delivery.status, delivery.attempts, delivery.error_code) == ("failed", 1, str(code))
    assert Customer.objects.get(pk=delivery.enrollment.customer_id).phone_unusable == unusable
    assert second_touch(delivery).channel == "email"  # the sequence goes on by email


def test_a_carrier_opt_out_records_the_opt_out(twilio, twilio_engine, sms_delivery):
    twilio.default = Behaviour(status=400, code=21610)

    twilio_engine.run_batch()

    customer = Customer.objects.get(pk=fresh(sms_delivery).enrollment.customer_id)
    assert customer.sms_consent == "revoked"
    assert SmsSuppression.objects.filter(phone=PHONE).exists()
    assert ConsentRecord.objects.filter(customer=customer).latest("id").source == "carrier"
    assert fresh(sms_delivery).enrollment.status == "active"  # email touches remain


def test_a_carrier_opt_out_of_a_customer_without_email_stops_the_sequence_there(
    twilio, twilio_engine, sms_delivery
):
    Customer.objects.filter(pk=sms_delivery.enrollment.customer_id).update(email="")
    twilio.default = Behaviour(status=400, code=21610)

    twilio_engine.run_batch()

    assert fresh(sms_delivery).enrollment.status == "stopped"  # not completed, not moved on
    assert second_touch(sms_delivery) is None


def test_a_timeout_becomes_uncertain_and_is_never_resent(
    twilio, twilio_engine, sms_delivery, clock
):
    twilio.default = Behaviour(delay=2)  # longer than the client's 1 s timeout

    twilio_engine.run_batch()
    clock.shift(timedelta(days=2))
    twilio.default = Behaviour()
    twilio_engine.run_batch()

    delivery = fresh(sms_delivery)
    assert delivery.status == "uncertain" and delivery.error_code == "no_response"
    assert [r["form"]["To"] for r in twilio.requests].count(PHONE) == 1
    assert second_touch(delivery).status == "sent"  # the email touch followed on schedule
