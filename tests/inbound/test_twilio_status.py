import pytest

from tests.conftest import START
from tests.inbound.conftest import send_first_touch, twilio_post
from touchbase.customers.models import ConsentRecord
from touchbase.customers.reachability import sms_block
from touchbase.delivery.models import Delivery
from touchbase.inbound.models import Event

pytestmark = pytest.mark.django_db

PHONE = "+13055550142"
SID = "SM0123456789abcdef0123456789abcdef"


def status(
    client, message_status: str, *, error_code: str = "", sid: str = SID, delivery_id: str = ""
):
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC00000000000000000000000000000000",
        "From": "+13055550199",
        "To": PHONE,
        "MessageStatus": message_status,
        "SmsStatus": message_status,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    # The worker asks Twilio to call back on .../status?delivery=<id> (signed with the URL).
    path = "/hooks/twilio/status" + (f"?delivery={delivery_id}" if delivery_id else "")
    return twilio_post(client, path, params)


@pytest.fixture
def texted(business):
    return send_first_touch(
        business, preset_key="aggressive", phone=PHONE, sms_consent=True, provider_message_id=SID
    )


def delivery_of(sent) -> Delivery:
    return Delivery.objects.get(pk=sent.delivery.pk)


def test_a_delivery_receipt_goes_on_the_delivery(client, texted, clock):
    response = status(client, "delivered")

    assert response.status_code == 204
    delivery = delivery_of(texted)
    assert (delivery.receipt_status, delivery.receipt_at) == ("delivered", START)
    assert delivery.status == "sent"


def test_a_late_sent_callback_does_not_undo_delivered(client, texted):
    status(client, "delivered")
    status(client, "sent")

    assert delivery_of(texted).receipt_status == "delivered"


@pytest.mark.parametrize(
    ("code", "block"),
    [("30006", "phone_landline"), ("21211", "phone_invalid"), ("30005", "phone_unknown_handset")],
)
def test_undelivered_with_a_permanent_code_marks_the_number_as_the_worker_would(
    client, texted, code, block
):
    status(client, "undelivered", error_code=code)

    assert sms_block(texted.customer) == block
    delivery = delivery_of(texted)
    assert (delivery.receipt_status, delivery.error_code) == ("undelivered", code)


def test_a_carrier_opt_out_records_the_opt_out(client, texted):
    status(client, "failed", error_code="21610")

    assert sms_block(texted.customer) == "sms_opted_out"
    assert ConsentRecord.objects.filter(action="opt_out").get().source == "carrier"
    assert texted.enrollment.status == "active"  # the email touches can still reach them


def test_a_filtered_message_is_surfaced_but_leaves_the_customer_alone(client, texted):
    status(client, "undelivered", error_code="30007")

    assert sms_block(texted.customer) is None
    delivery = delivery_of(texted)
    assert (delivery.error_code, delivery.error_message) == (
        "30007",
        "message filtered by the carrier",
    )


def test_a_transient_failure_leaves_the_customer_alone(client, texted):
    status(client, "undelivered", error_code="30003")

    assert sms_block(texted.customer) is None


def test_a_replayed_callback_changes_nothing(client, texted, clock):
    from datetime import timedelta

    status(client, "delivered")
    received_at = delivery_of(texted).receipt_at
    clock.shift(timedelta(minutes=3))

    assert status(client, "delivered").status_code == 204
    assert delivery_of(texted).receipt_at == received_at
    assert Event.objects.filter(source="twilio").count() == 1


def test_a_forged_callback_is_refused_and_changes_nothing(client, texted):
    params = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "21211"}

    response = twilio_post(client, "/hooks/twilio/status", params, token="guessed")

    assert response.status_code == 403
    assert sms_block(texted.customer) is None
    assert not Event.objects.exists()


def test_an_unknown_status_is_refused_naming_the_field(client, texted):
    response = status(client, "exploded")

    assert response.status_code == 400
    assert "MessageStatus" in response.json()["error"]
    assert not Event.objects.exists()


def test_a_callback_for_an_unknown_message_is_stored_and_acknowledged(client, texted):
    response = status(client, "delivered", sid="SMunknown")

    assert response.status_code == 204
    event = Event.objects.get()
    assert (event.external_id, event.delivery) == ("SMunknown:delivered", None)
    assert delivery_of(texted).receipt_status == ""


def test_a_callback_before_the_worker_stored_the_sid_is_matched_by_the_signed_url(client, business):
    sent = send_first_touch(business, preset_key="aggressive", phone=PHONE, sms_consent=True)

    response = status(client, "failed", error_code="21211", delivery_id=str(sent.delivery.pk))

    assert response.status_code == 204
    assert delivery_of(sent).receipt_status == "failed"
    assert sms_block(sent.customer) == "phone_invalid"


def test_the_url_hint_never_overrides_a_delivery_that_has_another_sid(client, texted):
    response = status(client, "delivered", sid="SMother", delivery_id=str(texted.delivery.pk))

    assert response.status_code == 204
    assert delivery_of(texted).receipt_status == ""
