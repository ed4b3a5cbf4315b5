"""Shared builders for the inbound tests: a business with a review page, a customer in a
sequence whose first touch was sent, and signed requests made as the providers make them."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase import clock as the_clock
from touchbase.campaigns.models import Enrollment
from touchbase.delivery.models import Delivery, DeliveryStatus

PUBLIC_BASE_URL = "https://reviews.example.com"
TWILIO_TOKEN = "twilio-auth-token-for-tests"
EMAIL_WEBHOOK_SECRET = "anymail:webhook-secret-for-tests"
PLACE_ID = "ChIJN1t_tDeuEmsRUsoyG83frY4"


@pytest.fixture(autouse=True)
def inbound_settings(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TOUCHBASE_TWILIO = {**settings.TOUCHBASE_TWILIO, "auth_token": TWILIO_TOKEN}
    settings.ANYMAIL = {"WEBHOOK_SECRET": EMAIL_WEBHOOK_SECRET}
    return settings


@pytest.fixture
def business(clock):
    return make_business(
        "Cool Air HVAC",
        google_place_id=PLACE_ID,
        contact_phone="+13055550100",
        sender_email="hello@coolair.example",
    )


@dataclass
class Sent:
    """A customer in a sequence whose current touch was handed to the provider."""

    delivery: Delivery

    @property
    def enrollment(self) -> Enrollment:
        return Enrollment.objects.get(pk=self.delivery.enrollment_id)

    @property
    def customer(self):
        customer = self.enrollment.customer
        return customer


def send_first_touch(
    business,
    *,
    preset_key: str = "standard",
    sent_ago: timedelta = timedelta(hours=1),
    provider_message_id: str = "",
    **customer_fields,
) -> Sent:
    """Enroll a new customer and mark the first touch sent `sent_ago` (as the worker would)."""
    if not business.campaigns.exists():
        make_campaign(business, preset_key)
    customer = make_customer(business, **customer_fields)
    result = complete_job(business, customer)
    assert result.enrollment.success, result.enrollment
    delivery = Delivery.objects.get(enrollment_id=result.enrollment.enrollment_id, position=1)
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = the_clock.now() - sent_ago
    delivery.to_address = customer.email if delivery.channel == "email" else customer.phone
    delivery.provider_message_id = provider_message_id
    delivery.save()
    return Sent(delivery)


def twilio_post(client, path: str, params: dict, *, token: str = TWILIO_TOKEN, url: str = ""):
    """POST form fields the way Twilio does, signed for the public URL (or `url`)."""
    signature = RequestValidator(token).compute_signature(url or PUBLIC_BASE_URL + path, params)
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def basic_auth(credentials: str = EMAIL_WEBHOOK_SECRET) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def sms_sid(text: str) -> str:
    return "SM" + hashlib.md5(text.encode()).hexdigest()  # an id, not a secret
