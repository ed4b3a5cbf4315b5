from datetime import timedelta

import pytest

from tests.factories import make_business, make_customer
from tests.inbound.conftest import PUBLIC_BASE_URL, send_first_touch, sms_sid, twilio_post
from touchbase.customers.models import ConsentRecord, SmsSuppression
from touchbase.customers.reachability import sms_block
from touchbase.inbound.keywords import KEYWORDS
from touchbase.inbound.models import Event, InboundSms, SmsIntent

pytestmark = pytest.mark.django_db

PHONE = "+13055550142"
OPT_OUT_KEYWORDS = [word for word, intent in KEYWORDS.items() if intent == SmsIntent.OPT_OUT]


def text(client, body: str, *, sid: str = "", phone: str = PHONE):
    params = {
        "MessageSid": sid or sms_sid(body + str(InboundSms.objects.count())),
        "AccountSid": "AC00000000000000000000000000000000",
        "From": phone,
        "To": "+13055550199",
        "Body": body,
        "NumMedia": "0",
    }
    return twilio_post(client, "/hooks/twilio/sms", params)


@pytest.fixture
def texted(business):
    """A customer who consented to SMS and got the first (SMS) touch of the Aggressive
    campaign (SMS, email, SMS, email)."""
    return send_first_touch(business, preset_key="aggressive", phone=PHONE, sms_consent=True)


def test_the_product_lists_every_opt_out_keyword():
    assert set(OPT_OUT_KEYWORDS) == {
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT",
        "REMOVE", "ALTO", "PARAR", "BAJA", "CANCELAR", "NO MÁS",
    }  # fmt: skip


@pytest.mark.parametrize("keyword", OPT_OUT_KEYWORDS)
@pytest.mark.parametrize(
    "spelling", [str.upper, str.lower, str.title, lambda w: f"  {w.lower()}!! ", lambda w: f"{w}."]
)
def test_every_opt_out_keyword_in_any_case_with_punctuation_revokes_consent(
    client, texted, keyword, spelling
):
    response = text(client, spelling(keyword))

    assert response.status_code == 200
    customer = texted.customer
    assert sms_block(customer) == "sms_opted_out"
    assert SmsSuppression.objects.filter(business=customer.business, phone=PHONE).exists()
    record = ConsentRecord.objects.filter(customer=customer).latest("id")
    assert (record.action, record.source, record.phone) == ("opt_out", "keyword", PHONE)


@pytest.mark.parametrize(
    "body", ["opt-out", "Opt_Out", "OPT  OUT", "stop all", "\tStop\n", "REMOVE", "Remove."]
)
def test_spacing_and_punctuation_inside_a_keyword_are_ignored(client, texted, body):
    text(client, body)

    assert sms_block(texted.customer) == "sms_opted_out"


def test_the_confirmation_is_twiml_naming_the_business_without_marketing(client, texted):
    response = text(client, "REMOVE")

    assert response["Content-Type"] == "application/xml"
    body = response.content.decode()
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "Cool Air HVAC: You are unsubscribed" in body
    assert "Reply START to resubscribe" in body


def test_at_most_one_confirmation_is_sent_within_five_minutes(client, texted, clock):
    first = text(client, "REMOVE")
    clock.shift(timedelta(minutes=4, seconds=59))
    second = text(client, "remove")
    clock.shift(timedelta(seconds=2))
    third = text(client, "REMOVE")

    assert "<Message>" in first.content.decode()
    assert second.content.decode().endswith("<Response />")
    assert "<Message>" in third.content.decode()
    assert InboundSms.objects.filter(answer="opt_out_confirmation").count() == 2


def test_a_repeated_stop_writes_no_second_consent_record(client, texted):
    text(client, "STOP")
    text(client, "STOP")

    assert ConsentRecord.objects.filter(action="opt_out").count() == 1


def test_sms_opt_out_leaves_email_touches_to_continue(client, texted):
    text(client, "STOP")

    assert texted.enrollment.status == "active"


def test_sms_opt_out_stops_the_sequence_when_no_email_touch_can_reach_the_customer(
    client, business
):
    sent = send_first_touch(
        business, preset_key="aggressive", phone=PHONE, sms_consent=True, email=""
    )

    text(client, "STOP")

    assert (sent.enrollment.status, sent.enrollment.stop_reason) == ("stopped", "opted_out_sms")


def test_start_after_stop_restores_consent_with_a_consent_record(client, texted):
    text(client, "STOP")

    response = text(client, "Start")

    customer = texted.customer
    assert sms_block(customer) is None
    assert not SmsSuppression.objects.exists()
    assert list(
        ConsentRecord.objects.filter(customer=customer)
        .order_by("id")
        .values_list("action", "source")
    ) == [("opt_in", "form"), ("opt_out", "keyword"), ("opt_in", "keyword")]
    assert "You are resubscribed" in response.content.decode()


def test_unstop_restores_consent(client, texted):
    text(client, "STOP")
    text(client, "unstop")

    assert sms_block(texted.customer) is None


def test_start_does_not_grant_consent_nobody_revoked(client, business):
    customer = make_customer(business, phone=PHONE)  # never asked, never opted in

    text(client, "START")

    customer.refresh_from_db()
    assert customer.sms_consent == "unknown"
    assert not ConsentRecord.objects.exists()


def test_help_answers_with_name_contact_frequency_rates_and_how_to_stop(client, texted):
    response = text(client, "help")

    body = response.content.decode()
    assert "Cool Air HVAC" in body
    assert "+13055550100" in body
    assert "Up to 4 msgs per visit" in body
    assert "Msg &amp; data rates may apply" in body
    assert "Reply STOP to opt out" in body
    assert sms_block(texted.customer) is None
    assert texted.enrollment.status == "active"


def test_stop_at_one_business_suppresses_the_number_at_every_business(client, texted):
    other = make_customer(make_business("Other Co"), phone=PHONE, sms_consent=True)

    text(client, "STOP")

    other.refresh_from_db()
    assert sms_block(other) == "sms_opted_out"
    assert SmsSuppression.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        "stop it please",
        "Please stop texting me",
        "don't text me again",
        "STOP STOP",
        # Issue 13, problem 10: the FCC's own words inside a sentence.
        "PLEASE CANCEL",
        "quit texting me",
        "end these texts",
        "I revoke consent",
        "opt me out",
        "Unsubscribe me please",
    ],
)
def test_a_plain_language_stop_request_is_flagged_for_the_owner_not_treated_as_a_keyword(
    client, business, texted, body
):
    business.stop_on_reply = False
    business.save()

    response = text(client, body)

    message = InboundSms.objects.get()
    assert (message.intent, message.needs_attention) == ("reply", True)
    assert message.business == business
    assert sms_block(texted.customer) is None  # consent unchanged
    assert texted.enrollment.stop_reason == "customer_replied"  # but nothing more is sent
    assert response.content.decode().endswith("<Response />")


def test_any_other_reply_is_kept_for_the_owner_and_stops_the_sequence(client, business, texted):
    text(client, "Thanks, the new unit works great")

    message = InboundSms.objects.get()
    assert (message.business, message.customer, message.intent, message.needs_attention) == (
        business,
        texted.customer,
        "reply",
        False,
    )
    assert (texted.enrollment.status, texted.enrollment.stop_reason) == (
        "stopped",
        "customer_replied",
    )
    assert Event.objects.get(source="twilio").kind == "sms_reply"


def test_a_reply_does_not_stop_the_sequence_when_the_business_turned_that_off(
    client, business, texted
):
    business.stop_on_reply = False
    business.save()

    text(client, "Thanks!")

    assert InboundSms.objects.get().body == "Thanks!"
    assert texted.enrollment.status == "active"


def test_a_replayed_message_changes_nothing(client, texted, clock):
    text(client, "STOP", sid="SM-replayed")
    text(client, "START")
    clock.shift(timedelta(minutes=10))

    replay = text(client, "STOP", sid="SM-replayed")

    assert replay.status_code == 200
    assert replay.content.decode().endswith("<Response />")
    assert sms_block(texted.customer) is None
    assert InboundSms.objects.count() == 2


def test_a_forged_signature_is_refused_and_nothing_changes(client, texted):
    params = {"MessageSid": "SMforged", "From": PHONE, "To": "+13055550199", "Body": "STOP"}

    response = twilio_post(client, "/hooks/twilio/sms", params, token="not-the-auth-token")

    assert response.status_code == 403
    assert sms_block(texted.customer) is None
    assert not InboundSms.objects.exists()


def test_a_request_without_a_signature_is_refused(client, texted):
    response = client.post("/hooks/twilio/sms", {"MessageSid": "SM1", "From": PHONE})

    assert response.status_code == 403


def test_a_signature_over_other_parameters_is_refused(client, texted):
    from twilio.request_validator import RequestValidator

    from tests.inbound.conftest import TWILIO_TOKEN

    signed = {"MessageSid": "SM1", "From": PHONE, "Body": "Thanks"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(
        PUBLIC_BASE_URL + "/hooks/twilio/sms", signed
    )

    response = client.post(
        "/hooks/twilio/sms", {**signed, "Body": "STOP"}, HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 403
    assert sms_block(texted.customer) is None


def test_without_an_auth_token_configured_every_twilio_webhook_is_refused(client, texted, settings):
    settings.TOUCHBASE_TWILIO = {**settings.TOUCHBASE_TWILIO, "auth_token": ""}

    assert text(client, "STOP").status_code == 403


def test_behind_an_https_proxy_the_signature_of_the_public_url_is_accepted(client, texted):
    # Django sees http://testserver/...; Twilio signed https://reviews.example.com/...
    response = text(client, "STOP")

    assert response.status_code == 200
    assert sms_block(texted.customer) == "sms_opted_out"


def test_a_signature_of_the_url_django_sees_is_accepted_too(client, texted):
    params = {"MessageSid": "SMdirect", "From": PHONE, "Body": "STOP"}

    response = twilio_post(
        client, "/hooks/twilio/sms", params, url="http://testserver/hooks/twilio/sms"
    )

    assert response.status_code == 200


def test_a_signature_for_another_host_is_refused(client, texted):
    params = {"MessageSid": "SMother", "From": PHONE, "Body": "STOP"}

    response = twilio_post(
        client, "/hooks/twilio/sms", params, url="https://evil.example.com/hooks/twilio/sms"
    )

    assert response.status_code == 403


def test_a_message_without_its_sid_is_refused_naming_the_field(client, texted):
    response = twilio_post(client, "/hooks/twilio/sms", {"From": PHONE, "Body": "STOP"})

    assert response.status_code == 400
    assert response.json() == {"error": {"MessageSid": "is required"}}
    assert sms_block(texted.customer) is None


def test_a_text_from_an_unknown_number_is_stored_and_answered(client, business):
    response = text(client, "REMOVE", phone="+13055550177")

    assert response.status_code == 200
    message = InboundSms.objects.get()
    assert (message.business, message.customer, message.intent) == (None, None, "opt_out")
    assert "You are unsubscribed" in response.content.decode()


def test_the_owner_sees_flagged_texts_of_their_own_business_only(client, business, texted):
    from touchbase.inbound.selectors import recent_replies, texts_needing_attention

    other = make_business("Other Co")
    text(client, "please stop texting me")
    text(client, "Thanks!")

    assert [m.body for m in texts_needing_attention(business)] == ["please stop texting me"]
    assert len(recent_replies(business)) == 2
    assert not texts_needing_attention(other).exists()
