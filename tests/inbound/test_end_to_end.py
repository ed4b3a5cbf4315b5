"""The worker sends a touch; the customer acts on what it received. Links and numbers come
from the rendered message itself, so these tests break if the worker and the inbound
endpoints stop agreeing."""

import re
from datetime import timedelta

import pytest
from django.core import mail

from tests.factories import complete_job, make_campaign, make_customer
from tests.inbound.conftest import PUBLIC_BASE_URL, twilio_post
from touchbase.campaigns.models import Enrollment
from touchbase.customers.reachability import email_block
from touchbase.delivery.backends.email import DjangoEmailTransport
from touchbase.delivery.backends.sms import MemorySmsTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery
from touchbase.inbound.models import InboundSms

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148 Safari/604.1"
LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"(/[ruf]/[\w:\-]+)")


@pytest.fixture
def engine(mailoutbox):
    MemorySmsTransport.outbox = []
    return DeliveryEngine(
        batch_size=50,
        concurrency=1,
        lease_seconds=60,
        window_spread_minutes=0,
        owner="test-worker",
        transports={
            "email": DjangoEmailTransport("django.core.mail.backends.locmem.EmailBackend"),
            "sms": MemorySmsTransport(),
        },
    )


def enroll(business, preset_key: str, **customer_fields) -> Enrollment:
    make_campaign(business, preset_key)
    customer = make_customer(business, "Maria Lopez", **customer_fields)
    result = complete_job(business, customer)
    return Enrollment.objects.get(pk=result.enrollment.enrollment_id)


def links_in(text: str) -> dict[str, str]:
    return {path[1]: path for path in LINK.findall(text)}


def test_the_review_link_in_a_sent_email_stops_the_sequence(client, business, engine, clock):
    enrollment = enroll(business, "standard")
    clock.shift(timedelta(hours=25))
    engine.run_batch()
    [email] = mail.outbox
    clock.shift(timedelta(hours=3))

    response = client.get(links_in(email.body)["r"], HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 302
    assert response["Location"].startswith("https://search.google.com/local/writereview")
    enrollment.refresh_from_db()
    assert enrollment.stop_reason == "review_clicked"


def test_the_list_unsubscribe_header_works_as_one_click(client, business, engine, clock):
    enrollment = enroll(business, "standard")
    clock.shift(timedelta(hours=25))
    engine.run_batch()
    [email] = mail.outbox
    url = email.extra_headers["List-Unsubscribe"].strip("<>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    response = client.post(
        url.removeprefix(PUBLIC_BASE_URL),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert email_block(enrollment.customer) == "email_opted_out"


def test_a_reply_to_a_sent_text_reaches_the_right_business_and_stops_the_sequence(
    client, business, engine, clock
):
    enrollment = enroll(business, "aggressive", phone="3055550142", sms_consent=True)
    clock.shift(timedelta(hours=5))
    engine.run_batch()
    [text] = MemorySmsTransport.outbox
    delivery = Delivery.objects.get(enrollment=enrollment, position=1)
    clock.shift(timedelta(minutes=30))

    twilio_post(
        client,
        "/hooks/twilio/sms",
        {"MessageSid": "SMreply1", "From": text.to, "To": "+13055550199", "Body": "Thank you!"},
    )
    twilio_post(
        client,
        f"/hooks/twilio/status?delivery={delivery.pk}",
        {"MessageSid": delivery.provider_message_id, "MessageStatus": "delivered"},
    )

    message = InboundSms.objects.get()
    assert (message.business, message.customer) == (business, enrollment.customer)
    enrollment.refresh_from_db()
    assert enrollment.stop_reason == "customer_replied"
    assert Delivery.objects.get(pk=delivery.pk).receipt_status == "delivered"
