"""What a Spanish-speaking customer receives (issue 16): the touch's Spanish text with the
Spanish first-SMS footer ("Responda ALTO para cancelar"), the English text when the touch
has none, the business's default language for customers without their own, and segment
counts that see what accents do to GSM-7."""

import pytest
from django.test import override_settings

from tests.delivery.test_engine import at, enroll
from tests.delivery.test_transports import twilio_transport
from tests.factories import make_business
from touchbase.campaigns.models import MessageTemplate
from touchbase.campaigns.placeholders import render
from touchbase.campaigns.services import TouchSpec, create_template, set_campaign_touches
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.rendering import sms_text
from touchbase.delivery.segments import count_segments
from touchbase.tenancy.services import update_business_settings

pytestmark = pytest.mark.django_db
PHONE = "+13055550142"


@pytest.fixture
def business(clock):
    return make_business("Bright Air", email_hourly_limit=1000, sms_hourly_limit=1000)


@pytest.fixture
def twilio_engine(twilio):
    """The engine sending through the official Twilio client to the local stand-in."""
    return DeliveryEngine(concurrency=1, owner="w", transports={"sms": twilio_transport(twilio)})


def sent_bodies(twilio) -> list[str]:
    return [request["form"]["Body"] for request in twilio.requests]


@override_settings(PUBLIC_BASE_URL="https://reviews.example.com")
def test_a_spanish_customers_first_text_is_spanish_and_names_alto(
    twilio_engine, twilio, business, clock
):
    delivery = enroll(business, preset="aggressive", phone=PHONE, sms_consent=True, language="es")
    at(clock, delivery.send_after)

    twilio_engine.run_batch()

    (body,) = sent_bodies(twilio)
    assert body.startswith("Hola Maria, ¡gracias por elegir a Bright Air!")
    assert body.endswith("Responda ALTO para cancelar.")
    assert "Reply STOP" not in body
    assert count_segments(body).encoding == "GSM-7"  # the shipped text avoids á í ó ú


def test_an_english_customer_still_gets_the_english_text(twilio_engine, twilio, business, clock):
    delivery = enroll(business, preset="aggressive", phone=PHONE, sms_consent=True)
    at(clock, delivery.send_after)

    twilio_engine.run_batch()

    (body,) = sent_bodies(twilio)
    assert body.startswith("Hi Maria") and body.endswith("Reply STOP to opt out.")


def test_a_customer_without_a_language_gets_the_businesss_default(
    twilio_engine, twilio, business, clock
):
    update_business_settings(business=business, default_customer_language="es")
    delivery = enroll(business, preset="aggressive", phone=PHONE, sms_consent=True)
    at(clock, delivery.send_after)

    twilio_engine.run_batch()

    assert sent_bodies(twilio)[0].startswith("Hola Maria")


def test_a_touch_without_spanish_text_sends_the_english_one(twilio_engine, twilio, business, clock):
    delivery = enroll(business, preset="aggressive", phone=PHONE, sms_consent=True, language="es")
    english_only = create_template(
        business=business,
        name="English only",
        channel="sms",
        body="Hi {customer_first_name}, thanks! {review_link}",
    )
    campaign = delivery.enrollment.campaign
    set_campaign_touches(
        campaign=campaign,
        touches=[TouchSpec(channel="sms", delay_hours=4, template=english_only)],
    )
    at(clock, delivery.send_after)

    twilio_engine.run_batch()

    (body,) = sent_bodies(twilio)
    # The English text with its English footer: one language per message.
    assert body.startswith("Bright Air: Hi Maria, thanks!")
    assert body.endswith("Reply STOP to opt out.")


def test_a_spanish_email_has_the_spanish_subject_and_words(engine, business, clock, mailoutbox):
    delivery = enroll(business, preset="standard", language="es")
    at(clock, delivery.send_after)

    engine.run_batch()

    (email,) = mailoutbox
    assert email.subject == "¿Cómo lo hicimos, Maria?"
    assert email.body.startswith("Hola Maria:")
    assert "¿Prefiere decírnoslo en privado?" in email.body
    assert "Darse de baja de estos correos" in email.body
    html = email.alternatives[0][0]
    assert 'lang="es"' in html and "Dejar una reseña" in html


@pytest.mark.parametrize("key", ["sms_request", "sms_reminder"])
def test_every_default_spanish_text_fits_one_segment_with_the_footer(key):
    template = MessageTemplate.objects.get(system_key=key)
    business = "Bright Air Heating & Cooling"  # a long name, 28 characters
    link = "https://reviews.example.com/r/" + "Z" * 9
    language, _, body = template.text_for("es")

    text = sms_text(
        render(
            body, {"customer_first_name": "Maria", "business_name": business, "review_link": link}
        ),
        business_name=business,
        first_of_enrollment=True,
        language=language,
    )

    assert language == "es" and text.endswith("Responda ALTO para cancelar.")
    count = count_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1), (len(text), text)


def test_an_accent_outside_gsm7_makes_a_spanish_text_ucs2():
    plain = count_segments("¿Nos deja una breve reseña? Responda ALTO para cancelar.")
    accented = count_segments("¿Podría dejarnos una reseña rápida? " * 2)

    assert plain.encoding == "GSM-7"  # ñ ¿ ¡ é are GSM-7
    assert (accented.encoding, accented.segments) == ("UCS-2", 2)  # í á are not: 72 > 70
