"""The pages a Spanish-speaking customer opens from a message (issue 16) speak Spanish,
through Django's translation catalogue; an English customer's stay English, and so does the
owner's app."""

import pytest
from django.test import Client

from tests.factories import make_business
from tests.inbound.conftest import send_first_touch
from tests.inbound.test_feedback_and_unsubscribe import feedback_path, unsubscribe_path
from tests.inbound.test_review_link import BROWSER, review_path
from touchbase.inbound.models import Feedback
from touchbase.tenancy.models import Business

pytestmark = pytest.mark.django_db


@pytest.fixture
def spanish(business):
    return send_first_touch(business, language="es", email="maria@example.com")


def page(response) -> str:
    assert response["Content-Language"] in ("es", "en")
    return response.content.decode()


def test_the_feedback_page_is_in_spanish(client, spanish):
    response = client.get(feedback_path(spanish.delivery))

    html = page(response)
    assert response["Content-Language"] == "es" and '<html lang="es">' in html
    assert "Cuéntele a Cool Air HVAC cómo le fue" in html
    assert "Dejar una reseña" in html and "Enviar en privado" in html
    assert "Leave a review" not in html


def test_the_thank_you_page_is_in_spanish(client, spanish):
    html = page(client.post(feedback_path(spanish.delivery), {"message": "Muy bien"}))

    assert "¡Gracias!" in html
    assert "Su mensaje fue enviado a Cool Air HVAC. Solo ellos lo leerán." in html
    assert Feedback.objects.get().message == "Muy bien"


def test_an_empty_feedback_is_refused_in_spanish(client, spanish):
    response = client.post(feedback_path(spanish.delivery), {"message": "  "})

    assert response.status_code == 400
    assert "escriba unas palabras antes de enviar" in page(response)


def test_the_unsubscribe_page_and_its_answer_are_in_spanish(client, spanish):
    asked = page(client.get(unsubscribe_path(spanish.delivery)))
    done = page(client.post(unsubscribe_path(spanish.delivery)))

    assert "¿Darse de baja de los correos de Cool Air HVAC?" in asked
    assert "<strong>maria@example.com</strong>" in asked
    assert "Se ha dado de baja" in done and "Suscribirse de nuevo" in done


def test_the_no_review_page_thank_you_is_in_spanish(client, clock):
    business = make_business("Plain Plumbing")
    sent = send_first_touch(business, language="es")
    Business.objects.filter(pk=business.pk).update(review_url="", google_place_id="")

    html = page(client.get(review_path(sent.delivery), HTTP_USER_AGENT=BROWSER))

    assert "Plain Plumbing aún no ha configurado su página de reseñas" in html


def test_a_spanish_business_default_makes_its_customers_pages_spanish(client, business):
    Business.objects.filter(pk=business.pk).update(default_customer_language="es")
    sent = send_first_touch(business)  # no language of its own

    assert "Enviar en privado" in page(client.get(feedback_path(sent.delivery)))


def test_an_english_customers_pages_stay_english(client, business):
    sent = send_first_touch(business)

    response = client.get(feedback_path(sent.delivery))

    assert response["Content-Language"] == "en"
    assert "Tell Cool Air HVAC how it went" in page(response)


def test_a_bad_link_answers_in_the_browsers_language():
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")

    assert "Este enlace no funciona" in spanish.get("/f/not-a-token").content.decode()
    assert "This link doesn't work" in Client().get("/f/not-a-token").content.decode()
