"""A business cannot go live half set up (issue 13, problem 1; PRODUCT §9): no campaign is
active before it has a review destination and a postal address, and the worker holds the
touches of a business that lost them with the visible reason "setup incomplete"."""

import pytest
from django.core.exceptions import ValidationError

from tests.delivery.test_engine import at, enroll, fresh
from tests.factories import make_business, make_campaign
from touchbase.campaigns.services import resume_campaign
from touchbase.tenancy.models import Business
from touchbase.tenancy.services import update_business_settings

pytestmark = pytest.mark.django_db


def test_a_campaign_cannot_go_active_without_review_link_and_postal_address(clock):
    business = make_business("Half Set Up", review_url="", postal_address="")

    with pytest.raises(ValidationError) as error:
        make_campaign(business, "standard")

    message = " ".join(error.value.messages)
    assert "review link" in message and "postal address" in message
    paused = make_campaign(business, "standard", status="paused")
    with pytest.raises(ValidationError):
        resume_campaign(campaign=paused)
    paused.refresh_from_db()
    assert paused.status == "paused"


@pytest.mark.parametrize("field", ["review_url", "postal_address"])
def test_settings_refuse_to_empty_the_setup_while_a_campaign_is_active(clock, field):
    business = make_business("Live Air")
    make_campaign(business, "standard")

    with pytest.raises(ValidationError) as error:
        update_business_settings(business=business, **{field: ""})

    assert "a campaign is active" in error.value.message_dict[field][0]
    business.refresh_from_db()
    assert getattr(business, field)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("review_url", "http://g.page/r/plain/review", "https://"),
        ("google_place_id", "https://maps.google.com/?cid=123", "Google Place ID"),
    ],
)
def test_a_review_destination_is_checked(clock, field, value, problem):
    business = make_business("Checked Air")

    with pytest.raises(ValidationError) as error:
        update_business_settings(business=business, **{field: value})

    assert problem in error.value.message_dict[field][0]


def test_the_worker_holds_touches_until_the_setup_is_complete(engine, clock, mailoutbox):
    business = make_business("Legacy Air", email_hourly_limit=1000)
    delivery = enroll(business)
    # Set up before the address was required (or emptied behind the services' back).
    Business.objects.filter(pk=business.pk).update(postal_address="")
    at(clock, delivery.send_after)

    engine.run_batch()

    held = fresh(delivery)
    assert (held.status, held.defer_reason) == ("held", "setup_incomplete")
    assert mailoutbox == []
    assert engine.run_batch().claimed == 0  # out of the claim index: no busy polling

    business.refresh_from_db()
    update_business_settings(business=business, postal_address="9 Elm St, Dover, DE 19901")
    engine.run_batch()

    sent = fresh(delivery)
    assert sent.status == "sent"
    assert "9 Elm St, Dover, DE 19901" in mailoutbox[0].body
