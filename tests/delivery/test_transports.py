"""Transports against real servers: aiosmtpd for SMTP, an HTTP stand-in for Twilio."""

import pytest
from django.test import override_settings

from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.servers import Behaviour, free_port
from touchbase.delivery.backends.base import OutgoingMessage, SendError
from touchbase.delivery.backends.email import DjangoEmailTransport
from touchbase.delivery.backends.twilio import TwilioSmsTransport
from touchbase.delivery.models import Delivery
from touchbase.delivery.rendering import render_delivery

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def rendered_email(db, clock):
    business = make_business(
        "Bright Air",
        postal_address="120 Palm Avenue\nMiami, FL 33101",
        sender_name="Dana at Bright Air",
        reply_to_email="dana@bright-air.example.com",
    )
    make_campaign(business, "conservative")
    customer = make_customer(business, "Maria Lopez", email="maria@example.com")
    delivery = Delivery.objects.get(
        enrollment_id=complete_job(business, customer).enrollment.enrollment_id
    )
    touch = delivery.enrollment.campaign.touches.get(position=1)
    return render_delivery(delivery, touch.template, first_sms_of_enrollment=True)


def smtp_settings(server):
    return override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port, EMAIL_TIMEOUT=5)


def test_smtp_delivers_both_parts_with_one_click_unsubscribe(smtp_server, rendered_email):
    with smtp_settings(smtp_server):
        sent = DjangoEmailTransport(SMTP).send(rendered_email, idempotency_key="42")

    [received] = smtp_server.inbox.messages
    assert received["Subject"] == "How did we do, Maria?"
    assert received["To"] == "maria@example.com"
    assert received["From"] == "Dana at Bright Air <reviews@touchbase.localhost>"
    assert received["Reply-To"] == "dana@bright-air.example.com"
    assert received["List-Unsubscribe"].strip().startswith("<http://127.0.0.1:8000/u/")
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["X-Touchbase-Delivery"] == "42"
    assert sent.provider_message_id == received["Message-ID"]
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    unsubscribe = received["List-Unsubscribe"].strip().strip("<>")
    for part in (text, html):
        assert "/r/" in part and unsubscribe in part and "120 Palm Avenue" in part
    assert "Miami, FL 33101" in text and 'href="http://127.0.0.1:8000/r/' in html


def test_smtp_permanent_refusal_is_permanent(smtp_server, rendered_email):
    smtp_server.inbox.reply = "550 5.1.1 mailbox unavailable"
    with smtp_settings(smtp_server), pytest.raises(SendError) as error:
        DjangoEmailTransport(SMTP).send(rendered_email, idempotency_key="1")

    assert error.value.permanent and error.value.code == "550"


def test_smtp_temporary_refusal_is_transient(smtp_server, rendered_email):
    smtp_server.inbox.reply = "451 4.3.0 try again later"
    with smtp_settings(smtp_server), pytest.raises(SendError) as error:
        DjangoEmailTransport(SMTP).send(rendered_email, idempotency_key="1")

    assert not error.value.permanent and not error.value.unknown_outcome


def test_smtp_server_down_is_transient_and_safe_to_retry(rendered_email):
    port = free_port()  # nothing listens there
    with (
        override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=port),
        pytest.raises(SendError) as error,
    ):
        DjangoEmailTransport(SMTP).send(rendered_email, idempotency_key="1")

    assert (error.value.permanent, error.value.unknown_outcome) == (False, False)


# --- Twilio ---------------------------------------------------------------------------------

SMS = OutgoingMessage(channel="sms", to="+13055550142", text="Bright Air: review us? Reply STOP")


def twilio_transport(stand_in, kind=TwilioSmsTransport, **options) -> TwilioSmsTransport:
    """A Twilio transport (or subclass `kind`) sending to the local stand-in."""
    settings = {
        "account_sid": "AC" + "1" * 32,
        "auth_token": "secret",
        "from_number": "+13055550100",
        "status_callback_url": "https://touchbase.example.com/hooks/twilio/status",
        "api_base_url": stand_in.url,
        "timeout": 2,
    }
    return kind(**{**settings, **options})


def assert_one_twilio_message_request(stand_in, delivery_id: str) -> None:
    """What reached the stand-in is Twilio's Messages API call for `SMS`, with the status
    callback naming the delivery (shared with test_async_transports.py)."""
    [request] = stand_in.requests
    assert request["path"] == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert request["form"]["To"] == "+13055550142"
    assert request["form"]["From"] == "+13055550100"
    assert request["form"]["Body"] == SMS.text
    assert request["form"]["StatusCallback"] == (
        f"https://touchbase.example.com/hooks/twilio/status?delivery={delivery_id}"
    )
    assert request["auth"].startswith("Basic ")


def test_twilio_sends_with_the_official_client(twilio):
    sent = twilio_transport(twilio).send(SMS, idempotency_key="77")

    assert_one_twilio_message_request(twilio, "77")
    assert sent.provider_message_id.startswith("SM")


def test_twilio_messaging_service_replaces_the_from_number(twilio):
    twilio_transport(twilio, from_number="", messaging_service_sid="MG" + "2" * 32).send(
        SMS, idempotency_key="1"
    )

    form = twilio.requests[0]["form"]
    assert form["MessagingServiceSid"] == "MG" + "2" * 32 and "From" not in form


@pytest.mark.parametrize(
    ("status", "code", "permanent", "effect"),
    [
        (400, 21211, True, "invalid"),
        (400, 21614, True, "landline"),
        (400, 21610, True, "carrier_opt_out"),
        (429, 20429, False, ""),
        (500, None, False, ""),
        (503, None, False, ""),
    ],
)
def test_twilio_errors_are_classified(twilio, status, code, permanent, effect):
    twilio.default = Behaviour(status=status, code=code)

    with pytest.raises(SendError) as error:
        twilio_transport(twilio).send(SMS, idempotency_key="1")

    assert (error.value.permanent, error.value.customer_effect) == (permanent, effect)
    assert not error.value.unknown_outcome


def test_twilio_hanging_request_times_out_as_an_unknown_outcome(twilio):
    twilio.default = Behaviour(delay=3)

    with pytest.raises(SendError) as error:
        twilio_transport(twilio, timeout=1).send(SMS, idempotency_key="1")

    # The request reached Twilio: it may have sent the text. Never retried blindly.
    assert error.value.unknown_outcome and not error.value.permanent
    assert len(twilio.requests) == 1
