"""Every time an owner sees is the time it will happen, in the business's zone with the zone
named (issue 13, problems 3 and 4). The clock stands at Monday 2026-03-02 15:00 UTC, 10:00
in New York."""

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def plumber(clock):
    # Plumbing jobs get their first message 17 h after completion: 03:00 the next night.
    business = make_business(
        "Night Plumbing", service_types=["plumbing"], service_type_timing={"plumbing": 17}
    )
    return business


@pytest.fixture
def owner(owner_of, plumber):
    return owner_of(plumber)


def test_the_consent_record_shows_utc_where_it_says_utc(owner, plumber):
    customer = make_customer(plumber, phone="+13055550142", sms_consent=True)

    page = owner.get(f"/customers/{customer.pk}/").content.decode()

    assert "When (UTC)" in page
    assert "Mon Mar 2, 2026, 15:00 UTC" in page
    assert "10:00" not in page.split("Consent record")[1].split("History")[0]


def test_the_timeline_and_due_next_show_the_send_window_time_with_the_zone(owner, plumber):
    make_campaign(plumber, "aggressive", service_type="plumbing")
    job = complete_job(plumber, make_customer(plumber), service_type="plumbing").job

    timeline = owner.get(f"/jobs/{job.pk}/").content.decode()
    dashboard = owner.get("/").content.decode()

    # Due at 03:00 EST; the worker's window opens at 09:00 in the customer's zone.
    assert "Scheduled for Tue Mar 3, 2026, 03:00 EST" in timeline
    assert "Goes out Tue Mar 3, 2026, 09:00 EST (outside the send window)" in timeline
    assert "Tue Mar 3, 2026, 09:00 EST" in dashboard
    assert "03:00" not in dashboard


def test_touches_that_will_be_skipped_are_marked_not_planned(owner, plumber):
    make_campaign(plumber, "aggressive", service_type="plumbing")
    # An email address and no consent to texts: touch 3 (SMS) will be skipped.
    customer = make_customer(plumber, email="no.texts@example.com")
    job = complete_job(plumber, customer, service_type="plumbing").job

    timeline = owner.get(f"/jobs/{job.pk}/").content.decode()

    touch3 = timeline.split("Touch 3")[1].split("Touch 4")[0]
    assert "Will be skipped: no mobile number" in touch3
    assert "Planned" not in touch3


def test_the_sequence_drawing_uses_the_business_timing_for_the_first_touch(owner, plumber):
    campaign = make_campaign(plumber, "standard", service_type="plumbing")

    detail = owner.get(f"/campaigns/{campaign.pk}/").content.decode()
    listing = owner.get("/campaigns/").content.decode()

    assert "after 17 h" in detail and "after 17 h" in listing
    assert "after 24 h" not in detail
