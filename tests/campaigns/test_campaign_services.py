"""PRODUCT §2: campaigns, touches, presets, pause/resume, delete, templates."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import (
    complete_job,
    make_business,
    make_campaign,
    make_customer,
    preset,
    system_template,
)
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.campaigns.models import Campaign, Enrollment, MessageTemplate
from touchbase.campaigns.services import (
    TouchSpec,
    copy_template,
    create_campaign,
    create_template,
    delete_campaign,
    duplicate_campaign,
    pause_campaign,
    resume_campaign,
    set_campaign_touches,
    update_campaign,
    update_template,
)
from touchbase.delivery.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    return make_business()


def email_touch(delay: int) -> TouchSpec:
    return TouchSpec("email", delay, system_template("email_request"))


def test_presets_exist_with_the_documented_sequences():
    sequences = {
        key: [(t.channel, t.delay_hours) for t in preset(key).touches.order_by("position")]
        for key in ("conservative", "standard", "aggressive")
    }
    assert sequences == {
        "conservative": [("email", 24), ("email", 72)],
        "standard": [("email", 24), ("email", 72), ("sms", 168)],
        "aggressive": [("sms", 4), ("email", 24), ("sms", 72), ("email", 168)],
    }


def test_campaign_from_a_preset_copies_its_touches(business):
    campaign = make_campaign(business, "aggressive", service_type="hvac", name="HVAC push")

    assert (campaign.business, campaign.service_type, campaign.status) == (
        business,
        "hvac",
        "active",
    )
    assert [t.channel for t in campaign.touches.order_by("position")] == [
        "sms",
        "email",
        "sms",
        "email",
    ]
    assert preset("aggressive").touches.count() == 4


def test_presets_are_read_only(business):
    standard = preset("standard")
    for change in (
        lambda: set_campaign_touches(campaign=standard, touches=[email_touch(5)]),
        lambda: pause_campaign(campaign=standard),
        lambda: delete_campaign(campaign=standard),
        lambda: update_campaign(campaign=standard, name="Mine now"),
        lambda: duplicate_campaign(campaign=standard),
    ):
        with pytest.raises(ValidationError) as error:
            change()
        assert "presets are read-only" in error.value.message_dict["campaign"][0]
    assert Campaign.objects.get(pk=standard.pk).name == "Standard"


def test_duplicate_is_a_paused_copy_for_another_service_type(business):
    original = make_campaign(business, service_type="hvac", name="HVAC")

    copy = duplicate_campaign(campaign=original, service_type="plumbing")

    assert (copy.name, copy.status, copy.service_type) == ("HVAC (copy)", "paused", "plumbing")
    assert copy.touches.count() == original.touches.count() == 3


def test_one_campaign_per_service_type(business):
    make_campaign(business, service_type="hvac", name="First")

    with pytest.raises(ValidationError) as error:
        make_campaign(business, "conservative", service_type="HVAC")

    assert "'First' already covers hvac" in error.value.message_dict["service_type"][0]
    assert Campaign.objects.filter(business=business).count() == 1


def test_one_active_all_services_campaign_but_paused_ones_may_wait(business):
    make_campaign(business, name="Everyone")

    with pytest.raises(ValidationError):
        make_campaign(business, "conservative")
    waiting = make_campaign(business, "conservative", status="paused")

    with pytest.raises(ValidationError) as error:
        resume_campaign(campaign=waiting)
    assert "already the active all-services campaign" in error.value.message_dict["service_type"][0]


@pytest.mark.parametrize("delay", [0, 721, -5, 2.5, True])
def test_delay_out_of_range_is_refused_naming_the_touch(business, delay):
    campaign = make_campaign(business)

    with pytest.raises(ValidationError) as error:
        set_campaign_touches(campaign=campaign, touches=[email_touch(24), email_touch(delay)])

    assert "from 1 to 720" in error.value.message_dict["touches[2].delay_hours"][0]
    assert [t.delay_hours for t in campaign.touches.order_by("position")] == [24, 72, 168]


@pytest.mark.parametrize("count", [0, 5])
def test_a_campaign_has_one_to_four_touches(business, count):
    with pytest.raises(ValidationError) as error:
        create_campaign(business=business, name="X", touches=[email_touch(24)] * count)

    assert "1 to 4 touches" in error.value.message_dict["touches"][0]
    assert not Campaign.objects.filter(business=business).exists()


def test_touch_template_must_match_channel_and_business(business):
    foreign = create_template(
        business=make_business("Other"),
        name="Theirs",
        channel="email",
        subject="Hi",
        body="{review_link}",
    )
    with pytest.raises(ValidationError) as error:
        create_campaign(
            business=business,
            name="Mixed",
            touches=[
                TouchSpec("sms", 24, system_template("email_request")),
                TouchSpec("email", 24, foreign),
                TouchSpec("fax", 24, system_template("sms_request")),
            ],
        )
    errors = error.value.message_dict
    assert "is an email template; this touch is sms" in errors["touches[1].template"][0]
    assert errors["touches[2].template"] == ["not found for this business"]
    assert "'fax' is not one of" in errors["touches[3].channel"][0]


def test_editing_touches_replaces_the_sequence(business):
    campaign = make_campaign(business)

    set_campaign_touches(
        campaign=campaign,
        touches=[TouchSpec("sms", 2, system_template("sms_request")), email_touch(720)],
    )

    assert [(t.position, t.channel, t.delay_hours) for t in campaign.touches.all()] == [
        (1, "sms", 2),
        (2, "email", 720),
    ]


def test_pause_freezes_and_resume_shifts_the_schedule_by_the_pause(business, clock):
    campaign = make_campaign(business)
    customer = make_customer(business)
    enrollment_id = complete_job(business, customer).enrollment.enrollment_id
    delivery = Delivery.objects.get(enrollment_id=enrollment_id)
    scheduled, send_after = delivery.scheduled_at, delivery.send_after

    clock.shift(timedelta(hours=2))
    assert pause_campaign(campaign=campaign) == 1
    delivery.refresh_from_db()
    assert delivery.status == "held"
    assert Enrollment.objects.get(pk=enrollment_id).status == "frozen"

    clock.shift(timedelta(days=3, hours=5))
    assert resume_campaign(campaign=campaign) == 1

    delivery.refresh_from_db()
    pause_length = timedelta(days=3, hours=5)
    assert delivery.status == "pending"
    assert delivery.scheduled_at == scheduled + pause_length
    assert delivery.send_after == send_after + pause_length
    assert Enrollment.objects.get(pk=enrollment_id).status == "active"


def test_pausing_twice_keeps_the_first_pause_start(business, clock):
    campaign = make_campaign(business)
    pause_campaign(campaign=campaign)
    paused_at = Campaign.objects.get(pk=campaign.pk).paused_at
    clock.shift(timedelta(hours=1))

    assert pause_campaign(campaign=campaign) == 0
    assert Campaign.objects.get(pk=campaign.pk).paused_at == paused_at


def test_delete_is_refused_while_enrollments_are_active_or_frozen(business):
    campaign = make_campaign(business)
    enrollment_id = complete_job(business, make_customer(business)).enrollment.enrollment_id

    with pytest.raises(ValidationError) as error:
        delete_campaign(campaign=campaign)
    assert "has 1 active or frozen enrollment" in error.value.message_dict["campaign"][0]

    pause_campaign(campaign=campaign)
    with pytest.raises(ValidationError):
        delete_campaign(campaign=campaign)
    assert Campaign.objects.filter(pk=campaign.pk).exists()

    stop_enrollment(enrollment=Enrollment.objects.get(pk=enrollment_id))
    delete_campaign(campaign=campaign)

    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert Enrollment.objects.get(pk=enrollment_id).stop_reason == "owner_stopped"


def test_owner_stop_is_permanent_and_cancels_the_pending_touch(business):
    make_campaign(business)
    enrollment_id = complete_job(business, make_customer(business)).enrollment.enrollment_id
    enrollment = Enrollment.objects.get(pk=enrollment_id)

    assert stop_enrollment(enrollment=enrollment) is True
    assert stop_enrollment(enrollment=enrollment) is False
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "owner_stopped")
    assert Delivery.objects.get(enrollment=enrollment).status == "cancelled"


# --- templates ------------------------------------------------------------------------------


def test_unknown_placeholder_is_refused_with_the_valid_list(business):
    with pytest.raises(ValidationError) as error:
        create_template(
            business=business,
            name="Mine",
            channel="sms",
            body="Hi {first_name}, review {business_name} at {review_url}",
        )

    message = error.value.message_dict["body"][0]
    assert "unknown placeholders {first_name}, {review_url}" in message
    assert "{customer_first_name}" in message and "{technician_name}" in message
    assert not MessageTemplate.objects.filter(business=business).exists()


@pytest.mark.parametrize(
    "body", ["{customer_name.__class__}", "{customer_name!r}", "{review_link:>40}", "oops {"]
)
def test_anything_but_a_plain_placeholder_is_refused(business, body):
    with pytest.raises(ValidationError) as error:
        create_template(business=business, name="Sneaky", channel="sms", body=body)

    assert error.value.message_dict["body"]


def test_system_templates_are_read_only_and_copied_to_customise(business):
    system = system_template("sms_request")

    with pytest.raises(ValidationError):
        update_template(template=system, body="changed {review_link}")
    mine = copy_template(business=business, template=system)
    update_template(template=mine, body="Thanks {customer_first_name}! {review_link}")

    assert MessageTemplate.objects.get(pk=system.pk).body != mine.body
    assert mine.business == business and mine.name == "Review request (SMS) (copy)"


def test_email_template_needs_a_subject_and_sms_has_none(business):
    with pytest.raises(ValidationError) as email_error:
        create_template(business=business, name="E", channel="email", body="{review_link}")
    with pytest.raises(ValidationError) as sms_error:
        create_template(
            business=business, name="S", channel="sms", subject="Hi", body="{review_link}"
        )

    assert "needs a subject" in email_error.value.message_dict["subject"][0]
    assert "no subject" in sms_error.value.message_dict["subject"][0]
