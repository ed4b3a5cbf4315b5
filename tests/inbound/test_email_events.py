"""Email provider events through django-anymail's real webhook views (Postmark and Mailjet
payloads as those providers send them), authenticated with HTTP basic auth."""

import json

import pytest

from tests.inbound.conftest import basic_auth, send_first_touch
from touchbase.customers.reachability import email_block
from touchbase.delivery.models import Delivery
from touchbase.inbound.models import Event

pytestmark = pytest.mark.django_db

MESSAGE_ID = "883953f4-6105-42a2-a16a-77a8eac79483"
POSTMARK = "/hooks/email/postmark/tracking/"
MAILJET = "/hooks/email/mailjet/tracking/"


def postmark_bounce(
    email: str, bounce_type: str = "HardBounce", bounce_id: int = 4323372036854775807
):
    return {
        "RecordType": "Bounce",
        "ID": bounce_id,
        "Type": bounce_type,
        "TypeCode": 1 if bounce_type == "HardBounce" else 4096,
        "Name": "Hard bounce" if bounce_type == "HardBounce" else "Soft bounce",
        "Tag": "review-request",
        "MessageID": MESSAGE_ID,
        "ServerID": 23,
        "MessageStream": "outbound",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "hello@coolair.example",
        "BouncedAt": "2026-03-02T15:00:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "How did we do?",
        "Metadata": {},
    }


def postmark_complaint(email: str):
    return {
        **postmark_bounce(email, bounce_id=5323372036854775807),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
    }


def postmark_delivery(email: str, metadata: dict | None = None):
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": MESSAGE_ID,
        "Recipient": email,
        "Tag": "review-request",
        "DeliveredAt": "2026-03-02T15:00:05Z",
        "Details": "Test delivery webhook details",
        "Metadata": metadata or {},
    }


def post(client, path, payload, auth: str | None = None):
    return client.post(
        path,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=auth or basic_auth(),
    )


@pytest.fixture
def emailed(business):
    return send_first_touch(business, provider_message_id=MESSAGE_ID, email="pat@example.com")


def test_a_hard_bounce_suppresses_the_address_and_email_touches_are_skipped(client, emailed):
    response = post(client, POSTMARK, postmark_bounce("pat@example.com"))

    assert response.status_code == 200
    assert email_block(emailed.customer) == "email_bounced"
    assert Delivery.objects.get(pk=emailed.delivery.pk).receipt_status == "bounced"
    event = Event.objects.get()
    assert (event.source, event.kind, event.external_id) == (
        "anymail",
        "email_bounced",
        "postmark:4323372036854775807",
    )
    # PRODUCT §4: a hard bounce skips email touches; it does not stop the sequence.
    assert emailed.enrollment.status == "active"


def test_a_soft_bounce_leaves_the_address_alone(client, emailed):
    post(client, POSTMARK, postmark_bounce("pat@example.com", "SoftBounce", bounce_id=77))

    assert email_block(emailed.customer) is None


def test_a_spam_complaint_opts_the_customer_out(client, emailed):
    response = post(client, POSTMARK, postmark_complaint("pat@example.com"))

    assert response.status_code == 200
    assert email_block(emailed.customer) == "email_opted_out"
    assert (emailed.enrollment.status, emailed.enrollment.stop_reason) == (
        "stopped",
        "opted_out_email",
    )


def test_a_delivery_event_goes_on_the_delivery(client, emailed):
    post(client, POSTMARK, postmark_delivery("pat@example.com"))

    assert Delivery.objects.get(pk=emailed.delivery.pk).receipt_status == "delivered"


def test_the_delivery_is_found_by_the_metadata_the_worker_sets(client, emailed):
    payload = postmark_delivery("pat@example.com", {"delivery_id": str(emailed.delivery.pk)})
    payload["MessageID"] = "some-other-id"

    post(client, POSTMARK, payload)

    assert Delivery.objects.get(pk=emailed.delivery.pk).receipt_status == "delivered"


def test_a_replayed_event_changes_nothing(client, emailed):
    post(client, POSTMARK, postmark_delivery("pat@example.com"))
    post(client, POSTMARK, postmark_delivery("pat@example.com"))
    post(client, POSTMARK, postmark_complaint("pat@example.com"))
    customer = emailed.customer
    customer.email_opted_out_at = None
    customer.save()

    response = post(client, POSTMARK, postmark_complaint("pat@example.com"))

    assert response.status_code == 200
    assert email_block(emailed.customer) is None
    assert Event.objects.count() == 2


@pytest.mark.parametrize("auth", ["Basic " + "d3Jvbmc6c2VjcmV0", "", "Bearer abc"])
def test_a_forged_email_webhook_gets_401_and_changes_nothing(client, emailed, auth):
    response = client.post(
        POSTMARK,
        json.dumps(postmark_bounce("pat@example.com")),
        content_type="application/json",
        **({"HTTP_AUTHORIZATION": auth} if auth else {}),
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert email_block(emailed.customer) is None
    assert not Event.objects.exists()


def test_a_malformed_body_is_refused_and_changes_nothing(client, emailed):
    response = client.post(
        POSTMARK,
        '{"RecordType": "Bounce", "Email": ',
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["body"]
    assert not Event.objects.exists()


def test_a_bounce_for_an_address_we_no_longer_use_does_not_touch_the_new_one(client, emailed):
    customer = emailed.customer
    customer.email = "pat.new@example.com"
    customer.save()

    post(client, POSTMARK, postmark_bounce("pat@example.com"))

    assert email_block(emailed.customer) is None


def test_a_bounce_without_a_known_message_suppresses_the_address(client, business):
    from tests.factories import make_customer

    customer = make_customer(business, email="Lost@Example.com")

    payload = postmark_bounce("lost@example.com")
    payload["MessageID"] = "unknown"
    post(client, POSTMARK, payload)

    customer.refresh_from_db()
    assert email_block(customer) == "email_bounced"


MAILJET_MESSAGE_ID = 19421777835146490


def mailjet_event(event: str, email: str, **extra):
    return {
        "event": event,
        "time": 1772463600,
        "MessageID": MAILJET_MESSAGE_ID,
        "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j",
        "email": email,
        "mj_campaign_id": 0,
        "mj_contact_id": 123456789,
        "customcampaign": "",
        "CustomID": "",
        "Payload": "",
        **extra,
    }


@pytest.fixture
def mailjetted(business):
    return send_first_touch(
        business, provider_message_id=str(MAILJET_MESSAGE_ID), email="pat@example.com"
    )


def test_a_mailjet_batch_is_handled_event_by_event(client, mailjetted):
    bounce = mailjet_event(
        "bounce",
        "pat@example.com",
        blocked=False,
        hard_bounce=True,
        error_related_to="recipient",
        error="user unknown",
    )
    batch = [mailjet_event("sent", "pat@example.com", smtp_reply="250 2.0.0 OK"), bounce]

    response = post(client, MAILJET, batch)

    assert response.status_code == 200
    assert email_block(mailjetted.customer) == "email_bounced"
    assert sorted(Event.objects.values_list("kind", flat=True)) == [
        "email_bounced",
        "email_delivered",
    ]


def test_a_mailjet_soft_bounce_leaves_the_address_alone(client, mailjetted):
    soft = mailjet_event("bounce", "pat@example.com", hard_bounce=False, error="quota exceeded")

    post(client, MAILJET, [soft])

    assert email_block(mailjetted.customer) is None


def test_a_mailjet_unsubscribe_opts_the_customer_out(client, mailjetted):
    post(client, MAILJET, [mailjet_event("unsub", "pat@example.com", mj_list_id=1)])

    assert email_block(mailjetted.customer) == "email_opted_out"


def test_a_replayed_mailjet_event_without_an_id_changes_nothing(client, mailjetted):
    unsub = mailjet_event("unsub", "pat@example.com")
    post(client, MAILJET, [unsub])
    customer = mailjetted.customer
    customer.email_opted_out_at = None
    customer.save()

    post(client, MAILJET, [unsub])

    assert email_block(mailjetted.customer) is None
    assert Event.objects.count() == 1
