"""Spanish-speaking customers in a real browser (issue 16): their pages in Spanish at
375 px (axe-clean), and the editors' Spanish previews with a segment counter that names the
accents forcing UCS-2 and says when a touch has no Spanish text. Also takes the README's
Spanish screenshots (TOUCHBASE_README_SCREENSHOTS=1)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_phone_layout import customer_page_problems, publish
from tests.factories import complete_job, make_campaign, make_customer
from touchbase.campaigns.models import MessageTemplate
from touchbase.campaigns.services import copy_template, create_template
from touchbase.delivery.models import Delivery
from touchbase.inbound.links import make_token

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_spanish_customers_pages_are_spanish_fit_a_phone_and_pass_axe(page, owner, screenshots):
    business = owner.business
    make_campaign(business, "standard")
    customer = make_customer(business, "María López", language="es", email="maria@example.com")
    delivery = Delivery.objects.get(enrollment__job=complete_job(business, customer).job)
    page.set_viewport_size({"width": 375, "height": 740})

    problems = customer_page_problems(page, delivery)
    assert not problems, problems

    page.goto(f"/f/{make_token(delivery.pk, 'feedback')}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuéntele a Bright Air cómo le fue")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    shot = screenshots / "customer-feedback-phone-es.png"
    page.screenshot(path=shot, full_page=True)
    publish(shot, "customer-feedback-phone-es.png")

    page.get_by_label("Su mensaje").fill("Todo muy bien, gracias.")
    page.get_by_role("button", name="Enviar en privado").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("¡Gracias!")


def test_the_template_editor_previews_and_counts_the_spanish_text(page, owner, screenshots):
    business = owner.business
    template = copy_template(
        business=business, template=MessageTemplate.objects.get(system_key="sms_request")
    )
    log_in(page, owner.user.email)
    page.goto(f"/templates/{template.pk}/")

    spanish, counter = page.locator("#template-preview-es"), page.locator("#template-segments-es")
    expect(spanish).to_contain_text("Hola Maria, ¡gracias por elegir a Bright Air!")
    expect(counter).to_contain_text("GSM-7")
    # Accents outside GSM-7 switch the whole text to UCS-2: the counter says which ones.
    page.get_by_label("Message in Spanish").fill(
        "Hola {customer_first_name}, ¿podría dejarnos una reseña rápida de su visita? {review_link}"
    )
    expect(counter).to_contain_text("UCS-2 (because of í á")
    expect(page.locator("#template-segments")).to_contain_text("GSM-7")  # English unchanged
    shot = screenshots / "template-editor-spanish.png"
    page.screenshot(path=shot, full_page=True)
    publish(shot, "template-editor-spanish.png")

    page.get_by_label("Message in Spanish").fill("")
    expect(page.locator("#template-es-fallback")).to_be_visible()
    expect(spanish).to_contain_text("Hi Maria, thanks for choosing Bright Air!")


def test_the_campaign_editor_shows_each_touchs_spanish_text_or_says_it_has_none(page, owner):
    business = owner.business
    campaign = make_campaign(business, "aggressive", name="Rápido")
    create_template(
        business=business,
        name="English only",
        channel="sms",
        body="Hi {customer_first_name}, a review? {review_link}",
    )
    log_in(page, owner.user.email)
    page.goto(f"/campaigns/{campaign.pk}/edit/")
    page.wait_for_load_state("networkidle")  # no request left for the live server's teardown

    spanish = page.locator("#touch1-preview-es")
    expect(spanish).to_contain_text("Hola Maria")
    expect(spanish).to_contain_text("Responda ALTO para cancelar.")  # the first-SMS footer
    expect(page.locator("#touch1-es-fallback")).to_be_hidden()

    page.get_by_label("Message").first.select_option(label="English only")
    expect(page.locator("#touch1-es-fallback")).to_be_visible()
    expect(spanish).to_contain_text("Reply STOP to opt out.")  # the English text, as sent
