"""The provider's evidence settles `uncertain`: a Twilio status callback, an ESP event, and
`touchbase reconcile` asking Twilio's message log (the local stand-in)."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from tests.factories import complete_job, make_campaign, make_customer
from tests.inbound.conftest import send_first_touch, twilio_post
from tests.inbound.test_email_events import POSTMARK, post, postmark_delivery
from tests.servers import Behaviour, TwilioStandIn
from touchbase.delivery.backends import transport_for
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery

pytestmark = pytest.mark.django_db
PHONE = "+13055550142"


@pytest.fixture
def stand_in():
    server = TwilioStandIn(default=Behaviour(delay=0.6)).start()  # answers after our timeout
    yield server
    server.stop()


@pytest.fixture
def twilio_settings(settings, stand_in):
    settings.TOUCHBASE_SMS_BACKEND = "twilio"
    settings.TOUCHBASE_TWILIO = {
        **settings.TOUCHBASE_TWILIO,
        "account_sid": "AC" + "1" * 32,
        "from_number": "+13055550100",
        "api_base_url": stand_in.url,
        "timeout": 0.3,
    }
    transport_for.cache_clear()
    yield settings
    transport_for.cache_clear()


def text_that_timed_out(business, stand_in, clock) -> Delivery:
    """A real send through the official client to the stand-in, which accepts the message
    but answers after the timeout: the worker cannot know, so the text is `uncertain`."""
    make_campaign(business, "aggressive")  # touch 1 is an SMS
    customer = make_customer(business, phone=PHONE, sms_consent=True)
    enrollment = complete_job(business, customer).enrollment
    delivery = Delivery.objects.get(enrollment_id=enrollment.enrollment_id)
    clock.move_to(delivery.send_after, tick=False)
    engine = DeliveryEngine(concurrency=1, owner="w", transports={"sms": transport_for("sms")})
    engine.run_batch()
    delivery.refresh_from_db()
    assert delivery.status == "uncertain" and delivery.provider_message_id == ""
    assert Delivery.objects.filter(enrollment=delivery.enrollment, position=2).exists()
    return delivery


def test_a_status_callback_settles_an_uncertain_text_as_sent(
    client, business, stand_in, twilio_settings, clock
):
    delivery = text_that_timed_out(business, stand_in, clock)
    [request] = stand_in.requests

    params = {"MessageSid": request["sid"], "MessageStatus": "delivered", "To": PHONE}
    response = twilio_post(client, f"/hooks/twilio/status?delivery={delivery.pk}", params)

    assert response.status_code == 204
    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_message_id) == ("sent", request["sid"])
    assert (delivery.receipt_status, delivery.error_code) == ("delivered", "")
    assert Delivery.objects.filter(enrollment=delivery.enrollment, position=2).count() == 1


def test_an_undelivered_callback_settles_an_uncertain_text_as_failed(client, business):
    sent = send_first_touch(business, preset_key="aggressive", phone=PHONE, sms_consent=True)
    Delivery.objects.filter(pk=sent.delivery.pk).update(status="uncertain")

    params = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    twilio_post(client, f"/hooks/twilio/status?delivery={sent.delivery.pk}", params)

    delivery = Delivery.objects.get(pk=sent.delivery.pk)
    assert (delivery.status, delivery.error_code) == ("failed", "30003")


def test_an_email_provider_event_settles_an_uncertain_email_as_sent(client, business):
    sent = send_first_touch(business, email="pat@example.com")
    Delivery.objects.filter(pk=sent.delivery.pk).update(status="uncertain")

    payload = postmark_delivery("pat@example.com", {"delivery_id": str(sent.delivery.pk)})
    post(client, POSTMARK, payload)

    delivery = Delivery.objects.get(pk=sent.delivery.pk)
    assert (delivery.status, delivery.receipt_status) == ("sent", "delivered")
    assert delivery.provider_message_id == payload["MessageID"]


def test_reconcile_asks_twilios_log_and_settles_what_it_proves(
    business, stand_in, twilio_settings, clock, capsys
):
    delivery = text_that_timed_out(business, stand_in, clock)
    never_accepted = send_first_touch(business, phone="+13055550143", sms_consent=True).delivery
    Delivery.objects.filter(pk=never_accepted.pk).update(status="uncertain", body_text="lost")

    call_command("reconcile")  # too soon: status callbacks may still come
    assert Delivery.objects.get(pk=delivery.pk).status == "uncertain"
    clock.shift(timedelta(minutes=6))
    call_command("reconcile")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_message_id) == ("sent", stand_in.requests[0]["sid"])
    assert delivery.receipt_status == "sent"
    assert Delivery.objects.get(pk=never_accepted.pk).status == "uncertain"  # nothing proven
    assert "sent 1" in capsys.readouterr().out
