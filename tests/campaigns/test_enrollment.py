"""PRODUCT §1: one test per enrollment rule."""

from datetime import timedelta

import pytest

from tests.factories import complete_job, make_business, make_campaign, make_customer, preset
from touchbase.campaigns.enrollment import enroll_job, manually_enroll_job
from touchbase.campaigns.models import Enrollment, EnrollmentStatus, StopReason
from touchbase.campaigns.services import pause_campaign
from touchbase.delivery.models import Delivery, DeliveryStatus
from touchbase.jobs.models import Job
from touchbase.jobs.services import create_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    return make_business("Acme Home Services")


@pytest.fixture
def customer(business):
    return make_customer(business, "Maria Lopez", phone="(305) 555-0142", sms_consent=True)


def live_enrollments(customer):
    return Enrollment.objects.filter(
        customer=customer, status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.FROZEN]
    )


# --- rule 2: which campaign --------------------------------------------------------------


def test_service_type_campaign_wins_over_all_services_fallback(business, customer):
    hvac = make_campaign(business, "aggressive", service_type="hvac", name="HVAC")
    make_campaign(business, "conservative", name="Everyone")

    result = complete_job(business, customer, "hvac").enrollment

    assert result.success
    assert Enrollment.objects.get(pk=result.enrollment_id).campaign == hvac


def test_all_services_campaign_takes_jobs_of_other_service_types(business, customer):
    make_campaign(business, "aggressive", service_type="hvac")
    everyone = make_campaign(business, "conservative", name="Everyone")

    result = complete_job(business, customer, "plumbing").enrollment

    assert Enrollment.objects.get(pk=result.enrollment_id).campaign == everyone


def test_no_matching_campaign_skips_with_reason(business, customer):
    make_campaign(business, service_type="plumbing")

    result = complete_job(business, customer, "hvac").enrollment

    assert (result.success, result.skipped, result.skip_reason) == (
        False,
        True,
        "no_matching_campaign",
    )
    assert not Enrollment.objects.exists()


def test_paused_campaign_is_not_matched(business, customer):
    hvac = make_campaign(business, service_type="hvac")
    pause_campaign(campaign=hvac)

    result = complete_job(business, customer, "hvac").enrollment

    assert result.skip_reason == "no_matching_campaign"


def test_paused_service_type_campaign_falls_back_to_all_services(business, customer):
    pause_campaign(campaign=make_campaign(business, service_type="hvac"))
    everyone = make_campaign(business, "conservative")

    result = complete_job(business, customer, "hvac").enrollment

    assert Enrollment.objects.get(pk=result.enrollment_id).campaign == everyone


def test_preset_is_never_matched(business, customer):
    # Presets exist (created by migration) but belong to no business.
    assert preset("standard").is_preset

    result = complete_job(business, customer, "hvac").enrollment

    assert result.skip_reason == "no_matching_campaign"


def test_preset_cannot_be_given_explicitly(business, customer):
    job = complete_job(business, customer, "hvac", enroll_in_campaign=False).job

    result = manually_enroll_job(job=job, campaign=preset("standard"))

    assert not result.success and "preset" in result.error
    assert not Enrollment.objects.exists()


def test_campaign_of_another_business_is_refused(business, customer):
    other = make_campaign(make_business("Rival Plumbing"))
    job = complete_job(business, customer, enroll_in_campaign=False).job

    result = manually_enroll_job(job=job, campaign=other)

    assert result.error == "campaign: not found for this business"
    assert not Enrollment.objects.exists()


def test_paused_campaign_given_explicitly_is_refused(business, customer):
    campaign = make_campaign(business)
    pause_campaign(campaign=campaign)
    job = complete_job(business, customer, enroll_in_campaign=False).job

    result = manually_enroll_job(job=job, campaign=campaign)

    assert result.error.startswith("campaign:") and "paused" in result.error


# --- rule 1: only completed jobs ----------------------------------------------------------


def test_do_not_send_job_is_skipped_with_reason(business, customer):
    make_campaign(business)
    job = create_job(
        business=business, customer=customer, service_type="hvac", status="do_not_send"
    ).job

    result = enroll_job(job)

    assert result.skip_reason == "do_not_send"
    assert not Enrollment.objects.exists()


def test_scheduled_job_is_not_enrolled(business, customer):
    make_campaign(business)
    job = create_job(business=business, customer=customer, service_type="hvac").job

    assert enroll_job(job).skip_reason == "not_completed"


# --- rule 3: cooldown ---------------------------------------------------------------------


def test_cooldown_just_inside_the_window_skips_with_last_enrollment_time(business, customer, clock):
    make_campaign(business, "conservative")  # 24 h + 72 h: long over before 30 days
    first = complete_job(business, customer).enrollment
    enrolled_at = Enrollment.objects.get(pk=first.enrollment_id).enrolled_at
    clock.shift(timedelta(days=30) - timedelta(minutes=1))

    result = complete_job(business, customer, "plumbing").enrollment

    assert (result.skipped, result.skip_reason) == (True, "cooldown")
    assert result.last_enrolled_at == enrolled_at
    assert Enrollment.objects.count() == 1


def test_cooldown_just_outside_the_window_enrolls(business, customer, clock):
    make_campaign(business, "conservative")
    complete_job(business, customer)
    clock.shift(timedelta(days=30, minutes=1))

    result = complete_job(business, customer, "plumbing").enrollment

    assert result.success
    assert Enrollment.objects.count() == 2


def test_non_default_cooldown_is_honoured(clock):
    business = make_business(cooldown_days=7)
    customer = make_customer(business)
    make_campaign(business, "conservative")
    complete_job(business, customer)

    clock.shift(timedelta(days=7) - timedelta(seconds=1))
    assert complete_job(business, customer).enrollment.skip_reason == "cooldown"
    clock.shift(timedelta(seconds=2))
    assert complete_job(business, customer).enrollment.success


def test_cooldown_counts_enrollments_in_any_campaign(business, customer, clock):
    make_campaign(business, "conservative", service_type="plumbing")
    make_campaign(business, "standard", service_type="hvac")
    complete_job(business, customer, "plumbing")
    clock.shift(timedelta(days=3))

    assert complete_job(business, customer, "hvac").enrollment.skip_reason == "cooldown"


def test_manual_enroll_bypasses_cooldown(business, customer, clock):
    make_campaign(business)
    complete_job(business, customer)
    clock.shift(timedelta(days=2))
    second = complete_job(business, customer, "plumbing")
    assert second.enrollment.skip_reason == "cooldown"

    result = manually_enroll_job(job=second.job)

    assert result.success
    enrollment = Enrollment.objects.get(pk=result.enrollment_id)
    assert enrollment.manual and enrollment.job == second.job


# --- rule 4: repeat job -------------------------------------------------------------------


def test_repeat_job_stops_the_old_enrollment_and_cancels_its_pending_touch(
    business, customer, clock
):
    make_campaign(business, "conservative")
    old = complete_job(business, customer).enrollment
    old_delivery = Delivery.objects.get(enrollment_id=old.enrollment_id)
    clock.shift(timedelta(days=2))

    new = manually_enroll_job(job=complete_job(business, customer, enroll_in_campaign=False).job)

    assert new.success
    old_enrollment = Enrollment.objects.get(pk=old.enrollment_id)
    assert (old_enrollment.status, old_enrollment.stop_reason) == ("stopped", "repeat_job")
    old_delivery.refresh_from_db()
    assert old_delivery.status == DeliveryStatus.CANCELLED
    assert list(live_enrollments(customer).values_list("pk", flat=True)) == [new.enrollment_id]


def test_repeat_job_after_cooldown_stops_a_long_running_sequence(business, customer, clock):
    make_campaign(business, "aggressive")
    old = complete_job(business, customer).enrollment
    # No worker runs in this test: 31 days later the sequence is still live.
    clock.shift(timedelta(days=31))

    new = complete_job(business, customer, "plumbing").enrollment

    assert new.success
    assert Enrollment.objects.get(pk=old.enrollment_id).stop_reason == StopReason.REPEAT_JOB


def test_repeat_job_also_stops_a_frozen_enrollment(business, customer, clock):
    paused_later = make_campaign(business, service_type="hvac")
    make_campaign(business, "conservative")
    old = complete_job(business, customer, "hvac").enrollment
    pause_campaign(campaign=paused_later)

    manually_enroll_job(job=complete_job(business, customer, "plumbing").job)

    old_enrollment = Enrollment.objects.get(pk=old.enrollment_id)
    assert (old_enrollment.status, old_enrollment.stop_reason) == ("stopped", "repeat_job")
    assert Delivery.objects.get(enrollment=old_enrollment).status == DeliveryStatus.CANCELLED


# --- rule 5: touch 1 timing ---------------------------------------------------------------


def test_touch_1_uses_the_business_hours_for_the_service_type(clock):
    business = make_business(service_type_timing={"cleaning": 4, "hvac": 48})
    customer = make_customer(business)
    make_campaign(business, "standard")  # touch 1's own delay: 24 h

    result = complete_job(business, customer, "cleaning").enrollment

    delivery = Delivery.objects.get(enrollment_id=result.enrollment_id)
    enrolled_at = delivery.enrollment.enrolled_at
    assert delivery.scheduled_at == enrolled_at + timedelta(hours=4)
    assert delivery.send_after == delivery.scheduled_at
    assert (delivery.position, delivery.channel, delivery.status) == (1, "email", "pending")


def test_touch_1_uses_its_own_delay_when_the_business_set_none_for_the_service(clock):
    business = make_business(service_type_timing={"cleaning": 4})
    customer = make_customer(business)
    make_campaign(business, "aggressive")  # touch 1: SMS after 4 h

    result = complete_job(business, customer, "hvac").enrollment

    delivery = Delivery.objects.get(enrollment_id=result.enrollment_id)
    assert delivery.scheduled_at == delivery.enrollment.enrolled_at + timedelta(hours=4)
    assert delivery.channel == "sms"


# --- rule 6: one live enrollment ----------------------------------------------------------


def test_enrollment_is_created_active_at_touch_1_with_its_first_delivery(business, customer):
    campaign = make_campaign(business)

    result = complete_job(business, customer).enrollment

    enrollment = Enrollment.objects.get(pk=result.enrollment_id)
    assert (enrollment.status, enrollment.current_position, enrollment.campaign) == (
        "active",
        1,
        campaign,
    )
    assert enrollment.deliveries.count() == 1


def test_enrolling_the_same_job_twice_reports_already_enrolled(business, customer):
    make_campaign(business)
    first = complete_job(business, customer)

    again = manually_enroll_job(job=first.job)

    assert (again.skip_reason, again.enrollment_id) == (
        "already_enrolled",
        first.enrollment.enrollment_id,
    )
    assert Enrollment.objects.count() == 1


def test_the_job_remembers_the_outcome(business, customer):
    result = complete_job(business, customer)

    job = Job.objects.get(pk=result.job.pk)
    assert (job.enrollment_outcome, job.enrollment_reason) == ("skipped", "no_matching_campaign")
    assert "No active campaign for HVAC" in job.enrollment_detail
