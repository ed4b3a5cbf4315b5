"""PRODUCT §1 triggers: which job writes offer the job to the enrollment engine."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.campaigns.models import Campaign, Enrollment
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.jobs.services import create_job, delete_job, mark_job_completed, update_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def business(clock):
    business = make_business()
    make_campaign(business)
    return business


@pytest.fixture
def customer(business):
    return make_customer(business)


def test_job_created_completed_enrolls(business, customer):
    result = create_job(
        business=business, customer=customer, service_type="hvac", status="completed"
    )

    assert result.enrollment.success
    assert result.job.completed_at is not None
    assert Enrollment.objects.filter(job=result.job).count() == 1


def test_job_created_do_not_send_is_not_enrolled_and_says_why(business, customer):
    result = create_job(
        business=business, customer=customer, service_type="hvac", status="do_not_send"
    )

    assert result.enrollment.skip_reason == "do_not_send"
    assert not Enrollment.objects.exists()
    assert Job.objects.get(pk=result.job.pk).enrollment_reason == "do_not_send"


def test_job_created_scheduled_is_not_offered_for_enrollment(business, customer):
    result = create_job(business=business, customer=customer, service_type="hvac")

    assert result.enrollment is None
    assert Job.objects.get(pk=result.job.pk).enrollment_outcome == ""


def test_update_from_do_not_send_to_completed_enrolls(business, customer):
    job = create_job(
        business=business, customer=customer, service_type="hvac", status="do_not_send"
    ).job

    result = update_job(job=job, status="completed")

    assert result.enrollment.success
    assert Job.objects.get(pk=job.pk).enrollment_outcome == "enrolled"


def test_update_from_completed_to_completed_does_not_enroll_again(business, customer):
    job = complete_job(business, customer).job

    result = update_job(job=job, status="completed", notes="replaced filter")

    assert result.enrollment is None
    assert Enrollment.objects.count() == 1
    assert Job.objects.get(pk=job.pk).notes == "replaced filter"


def test_mark_completed_enrolls_a_scheduled_job(business, customer):
    job = create_job(business=business, customer=customer, service_type="hvac").job

    result = mark_job_completed(job=job)

    assert result.enrollment.success
    assert Job.objects.get(pk=job.pk).status == "completed"


def test_mark_completed_on_a_completed_job_does_nothing_more(business, customer):
    job = complete_job(business, customer).job

    assert mark_job_completed(job=job).enrollment is None
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize("how", ["create", "update", "mark_completed"])
def test_enroll_flag_false_completes_without_enrolling(business, customer, how):
    if how == "create":
        result = complete_job(business, customer, enroll_in_campaign=False)
    else:
        job = create_job(business=business, customer=customer, service_type="hvac").job
        if how == "update":
            result = update_job(job=job, status="completed", enroll_in_campaign=False)
        else:
            result = mark_job_completed(job=job, enroll_in_campaign=False)

    assert result.enrollment is None
    assert Job.objects.get(pk=result.job.pk).status == "completed"
    assert not Enrollment.objects.exists()


def test_enrollment_failure_leaves_the_job_saved_with_the_reason(business, customer):
    # A campaign whose touches were removed behind the services' back (e.g. in the admin).
    Campaign.objects.get(business=business).touches.all().delete()

    result = complete_job(business, customer, external_id="FSM-1")

    job = Job.objects.get(external_id="FSM-1")
    assert result.enrollment.error
    assert (job.status, job.enrollment_outcome, job.enrollment_reason) == (
        "completed",
        "failed",
        "error",
    )
    assert "has no touches" in job.enrollment_detail
    assert not Enrollment.objects.exists()


def test_marking_a_completed_job_do_not_send_stops_its_sequence(business, customer):
    job = complete_job(business, customer).job

    update_job(job=job, status="do_not_send")

    enrollment = Enrollment.objects.get(job=job)
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "owner_stopped")
    assert Delivery.objects.get(enrollment=enrollment).status == "cancelled"


def test_deleting_a_job_stops_its_sequence_and_keeps_the_history(business, customer):
    job = complete_job(business, customer).job
    enrollment = Enrollment.objects.get(job=job)

    delete_job(job=job)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason, enrollment.job) == (
        "stopped",
        "job_deleted",
        None,
    )
    assert Delivery.objects.get(enrollment=enrollment).status == "cancelled"


# --- bad input ------------------------------------------------------------------------------


def test_unknown_service_type_is_refused_naming_the_field(business, customer):
    with pytest.raises(ValidationError) as error:
        create_job(business=business, customer=customer, service_type="chimney sweeping")

    assert "unknown service type 'chimney sweeping'" in error.value.message_dict["service_type"][0]
    assert not Job.objects.exists()


def test_service_type_spelling_is_forgiven(business, customer):
    job = create_job(business=business, customer=customer, service_type=" Pest Control ").job

    assert job.service_type == "pest_control"


def test_job_for_another_business_customer_is_refused(business):
    stranger = make_customer(make_business("Rival"))

    with pytest.raises(ValidationError) as error:
        create_job(business=business, customer=stranger, service_type="hvac", status="completed")

    assert error.value.message_dict == {"customer": ["not found for this business"]}
    assert not Job.objects.exists() and not Enrollment.objects.exists()


def test_moving_a_job_to_another_business_customer_is_refused(business, customer):
    job = create_job(business=business, customer=customer, service_type="hvac").job
    stranger = make_customer(make_business("Rival"))

    with pytest.raises(ValidationError):
        update_job(job=job, customer=stranger)

    assert Job.objects.get(pk=job.pk).customer == customer


def test_external_id_is_unique_per_business(business, customer):
    create_job(business=business, customer=customer, service_type="hvac", external_id="A-1")

    with pytest.raises(ValidationError) as error:
        create_job(business=business, customer=customer, service_type="hvac", external_id="A-1")

    assert "already used" in error.value.message_dict["external_id"][0]
    other = make_business("Other")
    create_job(
        business=other, customer=make_customer(other), service_type="hvac", external_id="A-1"
    )
    assert Job.objects.filter(external_id="A-1").count() == 2


def test_bad_status_and_unknown_fields_are_all_named(business, customer):
    job = create_job(business=business, customer=customer, service_type="hvac").job

    with pytest.raises(ValidationError) as error:
        update_job(job=job, status="done", colour="blue")

    assert set(error.value.message_dict) == {"status", "colour"}
    assert Job.objects.get(pk=job.pk).status == "scheduled"
