"""Issue 13, problem 8: the tracked link alone made every default SMS two segments (billed
twice). Now the worker's first text of a sequence, footer included, is one GSM-7 segment."""

import pytest
from django.test import override_settings

from tests.delivery.test_engine import at, enroll
from tests.factories import make_business, make_user
from touchbase.campaigns.models import MessageTemplate
from touchbase.campaigns.placeholders import render
from touchbase.delivery.rendering import sms_text
from touchbase.delivery.segments import count_segments
from touchbase.service_types import ServiceType
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db


@override_settings(PUBLIC_BASE_URL="https://reviews.example.com")
def test_the_default_first_text_with_its_footer_is_one_segment(engine, clock, sms_outbox):
    business = make_business("Bright Air Heating & Cooling", sms_hourly_limit=1000)
    delivery = enroll(business, preset="aggressive", phone="+13055550142", sms_consent=True)
    at(clock, delivery.send_after)

    engine.run_batch()

    (text,) = [message.text for message in sms_outbox]
    assert text.endswith("Reply STOP to opt out.") and "https://reviews.example.com/r/" in text
    count = count_segments(text)
    assert (count.encoding, count.segments) == ("GSM-7", 1), (len(text), text)


def test_previews_speak_of_the_campaigns_own_service(client, clock):
    from tests.factories import make_campaign

    business = make_business("Pipes Only", service_types=["plumbing"])
    campaign = make_campaign(business, "aggressive", service_type="plumbing")
    user = make_user()
    add_member(business=business, user=user, role="owner")
    client.force_login(user)

    page = client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    templates_page = client.get("/templates/new/?channel=sms").content.decode()

    sample = page.split('id="sample-data"')[1].split("</script>")[0]
    assert '"service_type": "Plumbing"' in sample and "HVAC" not in sample
    assert "a Plumbing job" in page
    assert '"service_type": "Plumbing"' in templates_page


@pytest.mark.parametrize("service_type", [value for value, _ in ServiceType.choices])
@pytest.mark.parametrize("key", ["sms_request", "sms_reminder"])
def test_every_default_text_fits_one_segment_with_the_footer(key, service_type):
    template = MessageTemplate.objects.get(system_key=key)
    business = "Bright Air Heating & Cooling"  # a long name, 28 characters
    link = "https://reviews.example.com/r/" + "Z" * 9  # a production host, the longest token

    text = sms_text(
        render(
            template.body,
            {
                "customer_first_name": "Maria",
                "business_name": business,
                "service_type": ServiceType(service_type).label,
                "review_link": link,
            },
        ),
        business_name=business,
        first_of_enrollment=True,
    )

    assert count_segments(text).segments == 1, (len(text), text)
