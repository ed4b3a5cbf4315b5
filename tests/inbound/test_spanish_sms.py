"""Spanish-speaking customers texting back (issue 16): ALTO and its siblings revoke consent
for everyone, AYUDA answers in Spanish, Spanish stop sentences are flagged, and an opt-out
gets one confirmation, never two (Twilio confirms its own English words)."""

import pytest

from tests.inbound.conftest import send_first_touch
from tests.inbound.test_twilio_sms import PHONE, text
from touchbase.customers.models import ConsentRecord, SmsConsent
from touchbase.customers.reachability import sms_block
from touchbase.inbound.models import InboundSms

pytestmark = pytest.mark.django_db

SPANISH_OPT_OUTS = ["ALTO", "PARAR", "BAJA", "CANCELAR", "NO MÁS"]
CONFIRMATION_ES = "Cool Air HVAC: Se ha dado de baja y no recibirá más mensajes nuestros."


@pytest.fixture
def texted(business):
    return send_first_touch(business, preset_key="aggressive", phone=PHONE, sms_consent=True)


@pytest.fixture
def texted_in_spanish(business):
    return send_first_touch(
        business, preset_key="aggressive", phone=PHONE, sms_consent=True, language="es"
    )


def answer(response) -> str:
    """The text of the TwiML reply ("" for none)."""
    from xml.etree import ElementTree

    message = ElementTree.fromstring(response.content).find("Message")
    return message.text if message is not None else ""


@pytest.mark.parametrize("word", SPANISH_OPT_OUTS)
@pytest.mark.parametrize(
    "spelling",
    [
        str.upper,
        str.lower,
        str.title,
        lambda w: f"  ¡{w.lower()}! ",
        lambda w: f"{w}.",
        lambda w: w.replace("Á", "A").lower(),  # accents optional
    ],
)
def test_every_spanish_opt_out_word_revokes_consent_for_an_english_customer_too(
    client, texted, word, spelling
):
    response = text(client, spelling(word))

    assert response.status_code == 200
    assert sms_block(texted.customer) == "sms_opted_out"
    record = ConsentRecord.objects.filter(customer=texted.customer).latest("id")
    assert (record.action, record.source) == ("opt_out", "keyword")
    # Twilio knows none of these words: touchbase confirms, in Spanish, naming the business.
    assert answer(response).startswith(CONFIRMATION_ES)
    assert "Responda START para volver a suscribirse" in answer(response)


def test_twilios_own_words_get_no_second_confirmation_from_touchbase(client, texted):
    response = text(client, "STOP")

    assert sms_block(texted.customer) == "sms_opted_out"
    assert response.content.decode().endswith("<Response />")
    assert InboundSms.objects.get().answer == ""


def test_a_spanish_customer_texting_stop_is_confirmed_by_twilio_alone(client, texted_in_spanish):
    response = text(client, "stop")

    assert sms_block(texted_in_spanish.customer) == "sms_opted_out"
    assert answer(response) == ""


def test_remove_is_confirmed_once_in_the_customers_language(client, texted_in_spanish):
    response = text(client, "REMOVE")

    assert answer(response).startswith(CONFIRMATION_ES)
    assert InboundSms.objects.get().answer == "opt_out_confirmation"


def test_remove_from_an_english_customer_is_confirmed_in_english(client, texted):
    assert answer(text(client, "Remove")).startswith("Cool Air HVAC: You are unsubscribed")


def test_with_advanced_opt_out_twilio_confirms_every_word_and_touchbase_none(
    client, texted, settings
):
    settings.TOUCHBASE_TWILIO_ADVANCED_OPT_OUT = True

    alto, remove = text(client, "ALTO"), text(client, "REMOVE")

    assert sms_block(texted.customer) == "sms_opted_out"  # consent is still revoked here
    assert (answer(alto), answer(remove)) == ("", "")
    assert not InboundSms.objects.exclude(answer="").exists()


def test_a_second_alto_within_five_minutes_gets_no_second_confirmation(client, texted):
    first, second = text(client, "ALTO"), text(client, "no mas")

    assert answer(first) and not answer(second)


@pytest.mark.parametrize("body", ["AYUDA", "ayuda", "¡Ayuda!"])
def test_ayuda_answers_like_help_in_spanish(client, texted, body):
    reply = answer(text(client, body))

    assert reply.startswith("Cool Air HVAC: Solicitudes de reseña")
    assert "+13055550100" in reply  # the business's contact
    assert "Hasta 4 mensajes por visita" in reply
    assert "Pueden aplicarse tarifas de mensajes y datos" in reply
    assert reply.endswith("Responda ALTO para cancelar.")
    assert texted.customer.sms_consent == SmsConsent.GRANTED


def test_help_from_a_spanish_customer_is_answered_in_spanish(client, texted_in_spanish):
    assert "Solicitudes de reseña" in answer(text(client, "HELP"))


def test_help_from_an_english_customer_stays_english(client, texted):
    assert "Msg & data rates may apply" in answer(text(client, "HELP"))


@pytest.mark.parametrize(
    "body",
    [
        "ya no me manden mensajes",
        "No más mensajes por favor",
        "Bórrenme de la lista",
        "número equivocado",
    ],
)
def test_spanish_stop_sentences_are_flagged_for_the_owner_without_revoking(client, texted, body):
    response = text(client, body)

    message = InboundSms.objects.get()
    assert (message.intent, message.needs_attention) == ("reply", True)
    assert texted.customer.sms_consent == SmsConsent.GRANTED
    assert (texted.enrollment.status, texted.enrollment.stop_reason) == (
        "stopped",
        "customer_replied",
    )
    assert answer(response) == ""
