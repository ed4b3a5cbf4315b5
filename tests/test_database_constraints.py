"""The invariants hold in the database itself, whatever code writes the rows."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from tests.factories import make_business, make_campaign, make_customer, system_template
from touchbase.campaigns.models import Campaign, Enrollment, Touch
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)


def violates(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


@pytest.fixture
def business():
    return make_business()


def test_touch_delay_position_and_channel_are_checked(business):
    campaign = make_campaign(business)
    template = system_template("email_request")

    def touch(**fields):
        values = {"campaign": campaign, "position": 4, "channel": "email", "delay_hours": 24}
        return lambda: Touch.objects.create(template=template, **{**values, **fields})

    assert violates(touch(delay_hours=0))
    assert violates(touch(delay_hours=721))
    assert violates(touch(position=5))
    assert violates(touch(channel="fax"))
    assert violates(touch(position=1))  # one touch per position
    assert not violates(touch())


def test_campaign_uniqueness_rules(business):
    make_campaign(business, service_type="hvac")
    make_campaign(business)

    assert violates(
        lambda: Campaign.objects.create(business=business, name="x", service_type="hvac")
    )
    assert violates(lambda: Campaign.objects.create(business=business, name="y"))
    assert not violates(
        lambda: Campaign.objects.create(business=business, name="z", status="paused", paused_at=NOW)
    )
    assert violates(lambda: Campaign.objects.create(business=business, name="w", status="gone"))


def test_one_live_enrollment_per_customer_and_valid_statuses(business):
    campaign = make_campaign(business)
    customer = make_customer(business)

    def enrollment(**fields):
        values = {"business": business, "campaign": campaign, "customer": customer}
        return lambda: Enrollment.objects.create(enrolled_at=NOW, **{**values, **fields})

    assert not violates(enrollment())
    assert violates(enrollment())  # a second live one
    assert violates(enrollment(status="frozen", frozen_at=NOW))
    assert not violates(enrollment(status="stopped", stop_reason="owner_stopped"))
    assert violates(enrollment(status="stopped"))  # stopped needs a reason
    assert violates(enrollment(status="completed", stop_reason="repeat_job"))
    assert violates(enrollment(status="sleeping"))


def test_job_rules(business):
    customer = make_customer(business)

    def job(**fields):
        values = {"business": business, "customer": customer, "service_type": "hvac"}
        return lambda: Job.objects.create(**{**values, **fields})

    assert not violates(job(external_id="A"))
    assert violates(job(external_id="A"))
    assert not violates(job())
    assert not violates(job())  # many jobs without an external id
    assert violates(job(service_type="chimney"))
    assert violates(job(status="completed"))  # completed without completed_at
    assert violates(job(status="finished", completed_at=NOW))


def test_delivery_status_and_lease_rules(business):
    make_campaign(business)
    customer = make_customer(business)
    enrollment = Enrollment.objects.create(
        business=business,
        customer=customer,
        campaign=Campaign.objects.get(business=business),
        enrolled_at=NOW,
    )

    def delivery(**fields):
        values = {
            "business": business,
            "enrollment": enrollment,
            "position": 1,
            "channel": "email",
            "scheduled_at": NOW,
            "send_after": NOW,
        }
        return lambda: Delivery.objects.create(**{**values, **fields})

    assert violates(delivery(status="lost"))
    assert violates(delivery(status="claimed"))  # a lease needs an expiry
    assert violates(delivery(position=0))
    assert not violates(delivery())
    assert violates(delivery())  # one row per touch
