"""Issue 13, problem 1 in the owner's pages: onboarding and settings ask for a review
destination and a postal address, and the dashboard says why nothing is being sent."""

import pytest

from tests.delivery.test_engine import enroll
from touchbase.delivery.models import Delivery
from touchbase.tenancy.models import Business
from touchbase.tenancy.services import create_business

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_owner(owner_of, clock):
    business = create_business(name="Fresh Plumbing", time_zone="America/Chicago")
    owner_of(business)
    return business


def test_onboarding_requires_a_review_link_and_an_address_and_keeps_what_was_typed(
    client, new_owner
):
    response = client.post(
        "/onboarding/",
        {
            "name": "Fresh Plumbing Co",
            "time_zone": "America/Chicago",
            "review_url": "",
            "google_place_id": "",
            "postal_address": "",
            "sender_name": "Dana",
            "service_types": ["plumbing"],
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "review link or a Google Place ID" in errors["review_url"][0]
    assert errors["postal_address"]
    page = response.content.decode()
    assert 'value="Fresh Plumbing Co"' in page and 'value="Dana"' in page
    new_owner.refresh_from_db()
    assert new_owner.name == "Fresh Plumbing"


def test_onboarding_refuses_a_plain_http_review_link_beside_the_field(client, new_owner):
    response = client.post(
        "/onboarding/",
        {
            "name": "Fresh Plumbing",
            "time_zone": "America/Chicago",
            "review_url": "http://fresh.example.com/review",
            "postal_address": "1 Main St, Springfield, IL 62701",
        },
    )

    assert "https://" in response.context["form"].errors["review_url"][0]


def test_the_dashboard_says_touches_are_held_because_setup_is_incomplete(client, owner_of, clock):
    from tests.factories import make_business

    business = make_business("Legacy Air")
    delivery = enroll(business)
    Business.objects.filter(pk=business.pk).update(postal_address="")
    Delivery.objects.filter(pk=delivery.pk).update(status="held", defer_reason="setup_incomplete")
    owner_of(business)

    dashboard = client.get("/").content.decode()
    job_page = client.get(f"/jobs/{delivery.enrollment.job_id}/").content.decode()

    assert "1 message held: setup incomplete" in dashboard
    assert "Add the postal address for email footers" in dashboard
    assert "Held: setup incomplete: add your review link and postal address" in job_page
