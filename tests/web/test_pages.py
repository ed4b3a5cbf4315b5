"""The owner's pages, through Django's test client: forms call the services, show their
errors on the right field, and change only what they say."""

import re
from datetime import time

import pytest
from django.core import mail

from tests.factories import make_business, make_campaign, make_customer, make_user
from touchbase.campaigns.models import Campaign, Enrollment, MessageTemplate
from touchbase.customers.models import ConsentRecord, Customer
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.tenancy.models import Business, Membership, User
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db


def field_error(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


# --- account ---------------------------------------------------------------------------------


def test_signing_up_asks_to_confirm_the_email_and_the_link_leads_to_onboarding(client, settings):
    settings.TOUCHBASE_SIGNUP = "open"
    response = client.post(
        "/accounts/signup/",
        {"business_name": "Sparkle", "email": "ana@sparkle.test", "password": "a-long-pass-9"},
    )

    assert "Check your email" in response.content.decode()
    link = next(w for w in mail.outbox[0].body.split() if "/accounts/verify/" in w)
    assert client.get(link.removeprefix("http://127.0.0.1:8000"))["Location"].startswith(
        "/accounts/login/?next=/onboarding/"
    )
    client.post("/accounts/login/", {"username": "ana@sparkle.test", "password": "a-long-pass-9"})
    assert "Set up Sparkle" in client.get("/onboarding/").content.decode()


def test_sign_up_errors_appear_on_their_fields(client, settings):
    settings.TOUCHBASE_SIGNUP = "open"

    response = client.post(
        "/accounts/signup/",
        {"business_name": "Sparkle", "email": "ana@sparkle.test", "password": "123"},
    )

    assert "too short" in field_error(response, "password")
    assert not Business.objects.exists() and not mail.outbox


def test_password_reset_sends_a_working_link_through_the_email_backend(client):
    make_user("ana@sparkle.test")

    client.post("/accounts/password-reset/", {"email": "ana@sparkle.test"})

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/password-reset/\S+/", mail.outbox[0].body).group(0)
    form_page = client.get(link.split("testserver", 1)[1], follow=True)
    assert "Choose a password" in form_page.content.decode()


def test_the_switcher_moves_between_the_users_businesses(client):
    user = make_user()
    first, second = make_business("Alpha Air"), make_business("Beta Blinds")
    add_member(business=first, user=user)
    add_member(business=second, user=user)
    make_campaign(second, name="Beta sequence")
    client.force_login(user)
    assert "Alpha Air" in client.get("/").content.decode()

    client.post("/business/switch/", {"business": second.pk})

    page = client.get("/campaigns/").content.decode()
    assert "Beta sequence" in page
    assert 'id="switch-business"' in page


def test_inviting_a_teammate_emails_them_a_link_and_makes_no_member_yet(owner_client, mine):
    response = owner_client.post(
        "/settings/team/", {"email": "dana@brightair.test", "role": "staff"}
    )

    assert response.status_code == 302
    assert not User.objects.filter(email="dana@brightair.test").exists()
    assert not Membership.objects.filter(business=mine.business, user__email="dana@brightair.test")
    assert mail.outbox[0].to == ["dana@brightair.test"]
    assert "Bright Air" in mail.outbox[0].subject
    assert "/invitations/" in mail.outbox[0].body


# --- onboarding and settings -----------------------------------------------------------------


def test_onboarding_saves_the_profile_services_and_timing(owner_client, mine):
    response = owner_client.post(
        "/onboarding/",
        {
            "name": "Bright Air HVAC",
            "time_zone": "America/Denver",
            "review_url": "https://g.page/r/bright/review",
            "google_place_id": "",
            "postal_address": "1 Main St",
            "sender_name": "Dana",
            "service_types": ["hvac", "plumbing"],
            "timing_hvac": "24",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/onboarding/campaign/"
    mine.business.refresh_from_db()
    assert mine.business.name == "Bright Air HVAC"
    assert mine.business.service_types == ["hvac", "plumbing"]
    assert mine.business.service_type_timing == {"hvac": 24}


def test_picking_a_preset_during_onboarding_starts_it(owner_client, mine):
    Campaign.objects.filter(business=mine.business).delete()
    preset = Campaign.objects.get(preset_key="aggressive")

    response = owner_client.post(
        "/onboarding/campaign/",
        {"preset": preset.pk, "name": "Fast", "service_type": ""},
        follow=True,
    )

    assert "Fast is running" in response.content.decode()
    campaign = Campaign.objects.get(business=mine.business)
    assert campaign.status == "active" and campaign.touches.count() == 4


def test_a_preset_for_a_taken_service_type_shows_the_clash(owner_client, mine):
    preset = Campaign.objects.get(preset_key="standard")

    response = owner_client.post(
        "/campaigns/new/", {"preset": preset.pk, "name": "Again", "service_type": ""}
    )

    assert "already the active all-services campaign" in " ".join(
        response.context["form"].errors["service_type"]
    )


def test_settings_refuse_a_send_window_past_the_legal_limit(owner_client, mine):
    response = owner_client.post(
        "/settings/",
        {
            "name": "Bright Air",
            "time_zone": "America/New_York",
            "review_url": "https://g.page/r/bright-air/review",
            "postal_address": "1 Main St, Springfield, IL 62701",
            "cooldown_days": "30",
            "send_window_start": "07:00",
            "send_window_end": "20:00",
            "email_hourly_limit": "100",
            "sms_hourly_limit": "100",
        },
    )

    assert "08:00" in field_error(response, "send_window_start")
    mine.business.refresh_from_db()
    assert mine.business.send_window_start.hour == 9


def test_the_test_email_goes_to_the_logged_in_owner(owner_client, mine):
    response = owner_client.post("/settings/test-message/", {"channel": "email"}, follow=True)

    assert "Test email sent to" in response.content.decode()
    assert [m.to for m in mail.outbox] == [[mine.user.email]]


# --- jobs ------------------------------------------------------------------------------------


def new_job(**overrides):
    data = {
        "customer": "",
        "new_customer_name": "Maria Lopez",
        "new_customer_email": "maria@example.com",
        "new_customer_phone": "",
        "service_type": "hvac",
        "status": "completed",
        "enroll_in_campaign": "on",
    }
    data.update(overrides)
    return data


def test_adding_a_completed_job_enrolls_its_new_customer(owner_client, mine):
    response = owner_client.post("/jobs/new/", new_job(), follow=True)

    job = Job.objects.get(customer__name="Maria Lopez")
    assert job.enrollment_outcome == "enrolled"
    assert "Enrolled in Bright Air sequence" in response.content.decode()


def test_unticking_enroll_saves_the_job_without_enrolling(owner_client, mine):
    data = new_job()
    del data["enroll_in_campaign"]

    owner_client.post("/jobs/new/", data)

    job = Job.objects.get(customer__name="Maria Lopez")
    assert job.status == "completed" and not job.enrollments.exists()


def test_a_bad_phone_is_shown_on_its_field_and_nothing_is_saved(owner_client, mine):
    response = owner_client.post("/jobs/new/", new_job(new_customer_phone="555"))

    assert "not a valid phone number" in field_error(response, "new_customer_phone")
    assert not Customer.objects.filter(name="Maria Lopez").exists()


def test_a_duplicate_job_number_leaves_no_orphan_customer(owner_client, mine):
    Job.objects.filter(pk=mine.job.pk).update(external_id="J-1")

    response = owner_client.post("/jobs/new/", new_job(external_id="J-1"))

    assert "already used" in field_error(response, "external_id")
    assert not Customer.objects.filter(name="Maria Lopez").exists()


def test_mark_completed_enrolls_when_the_box_is_ticked(owner_client, mine):
    customer = make_customer(mine.business, "Sam Wright")
    owner_client.post("/jobs/new/", new_job(customer=customer.pk, status="scheduled"))
    job = Job.objects.get(customer=customer)

    owner_client.post(f"/jobs/{job.pk}/complete/", {"enroll": "1"})

    job.refresh_from_db()
    assert (job.status, job.enrollment_outcome) == ("completed", "enrolled")
    assert Enrollment.objects.get(job=job).campaign == mine.campaign


def test_mark_completed_without_the_box_does_not_enroll(owner_client, mine):
    customer = make_customer(mine.business, "Sam Wright")
    owner_client.post("/jobs/new/", new_job(customer=customer.pk, status="scheduled"))
    job = Job.objects.get(customer=customer)

    owner_client.post(f"/jobs/{job.pk}/complete/", {})

    job.refresh_from_db()
    assert job.status == "completed" and not Enrollment.objects.filter(job=job).exists()


def test_job_list_filters_by_search_and_outcome(owner_client, mine):
    make_customer(mine.business, "Zed Unique")
    owner_client.post("/jobs/new/", new_job(new_customer_name="Zed Unique", status="scheduled"))

    found = owner_client.get("/jobs/", {"q": "zed"}).content.decode()
    enrolled = owner_client.get("/jobs/", {"outcome": "enrolled"}).content.decode()

    assert "Zed Unique" in found and "Bright Air Customer" not in found
    assert "Bright Air Customer" in enrolled and "Zed Unique" not in enrolled


def test_stopping_an_enrollment_is_permanent_and_cancels_its_next_touch(owner_client, mine):
    owner_client.post(f"/enrollments/{mine.enrollment.pk}/stop/", {"next": "/jobs/"})

    mine.enrollment.refresh_from_db()
    assert (mine.enrollment.status, mine.enrollment.stop_reason) == ("stopped", "owner_stopped")


# --- campaigns and templates -----------------------------------------------------------------


def touch_data(campaign, **changes):
    data = {"name": campaign.name, "service_type": ""}
    for touch in campaign.touches.all():
        data[f"touch{touch.position}-template"] = touch.template_id
        data[f"touch{touch.position}-delay_hours"] = touch.delay_hours
    data.update(changes)
    return data


def test_the_campaign_editor_replaces_the_sequence(owner_client, mine):
    sms = MessageTemplate.objects.get(system_key="sms_request")
    data = touch_data(
        mine.campaign, **{"touch3-template": "", "touch2-template": sms.pk, "touch2-delay_hours": 5}
    )

    response = owner_client.post(f"/campaigns/{mine.campaign.pk}/edit/", data)

    assert response.status_code == 302
    assert list(mine.campaign.touches.values_list("channel", "delay_hours")) == [
        ("email", 24),
        ("sms", 5),
    ]


def test_a_delay_out_of_range_is_shown_on_that_touch(owner_client, mine):
    data = touch_data(mine.campaign, **{"touch2-delay_hours": 721})

    response = owner_client.post(f"/campaigns/{mine.campaign.pk}/edit/", data)

    assert response.status_code == 200
    assert response.context["touch_forms"][1].errors["delay_hours"]
    assert mine.campaign.touches.get(position=2).delay_hours == 72


def test_the_status_toggle_pauses_and_resumes(owner_client, mine):
    owner_client.post(f"/campaigns/{mine.campaign.pk}/toggle/")
    mine.campaign.refresh_from_db()
    mine.enrollment.refresh_from_db()
    assert mine.campaign.status == "paused" and mine.enrollment.status == "frozen"

    owner_client.post(f"/campaigns/{mine.campaign.pk}/toggle/")
    mine.campaign.refresh_from_db()
    assert mine.campaign.status == "active"


def test_a_campaign_with_live_enrollments_cannot_be_deleted(owner_client, mine):
    response = owner_client.post(f"/campaigns/{mine.campaign.pk}/delete/", follow=True)

    assert "active or frozen enrollment" in response.content.decode()
    assert Campaign.objects.filter(pk=mine.campaign.pk).exists()


def test_an_unknown_placeholder_is_refused_with_the_valid_list(owner_client, mine):
    response = owner_client.post(
        f"/templates/{mine.template.pk}/",
        {"name": "Text", "subject": "", "body": "Hi {first_name}"},
    )

    error = field_error(response, "body")
    assert "{first_name}" in error and "{customer_first_name}" in error


def test_a_system_template_is_read_only_and_copied_to_customise(owner_client, mine):
    system = MessageTemplate.objects.get(system_key="sms_request")

    owner_client.post(f"/templates/{system.pk}/", {"name": "Mine", "body": "changed"})
    response = owner_client.post(f"/templates/{system.pk}/copy/")

    system.refresh_from_db()
    assert system.body != "changed"
    copy = MessageTemplate.objects.get(business=mine.business, name__endswith="(copy)")
    assert response["Location"] == f"/templates/{copy.pk}/"


def test_the_campaign_detail_shows_the_funnel_and_upcoming_sends(owner_client, mine):
    page = owner_client.get(f"/campaigns/{mine.campaign.pk}/").content.decode()

    assert "Funnel per touch" in page and "Upcoming sends" in page
    assert "Bright Air Customer" in page


def test_the_enrollment_list_total_is_a_direct_count(owner_client, mine):
    """The live filters' total comes from the status counts (no second COUNT): the same
    number as counting the rows, for each filter."""
    from touchbase.campaigns.models import Enrollment

    enrollments = Enrollment.objects.filter(campaign=mine.campaign)
    from touchbase import clock

    enrollments.update(status="frozen", frozen_at=clock.now())
    for status, statuses in (
        ("live", ("active", "frozen")),
        ("active", ("active",)),
        ("frozen", ("frozen",)),
        ("stopped", ("stopped",)),
    ):
        response = owner_client.get(f"/campaigns/{mine.campaign.pk}/?status={status}")
        expected = enrollments.filter(status__in=statuses).count()
        assert response.context["page"].paginator.count == expected, status
    assert enrollments.filter(status="frozen").count() >= 1


# --- customers and activity ------------------------------------------------------------------


def test_recording_sms_consent_writes_the_consent_record(owner_client, mine):
    owner_client.post(
        f"/customers/{mine.customer.pk}/consent/",
        {"granted": "1", "disclosure_text": "Texts about your job. Reply STOP to opt out."},
    )

    record = ConsentRecord.objects.get(customer=mine.customer)
    assert (record.action, record.source, record.recorded_by) == (
        "opt_in",
        "form",
        mine.user.email,
    )
    page = owner_client.get(f"/customers/{mine.customer.pk}/").content.decode()
    assert "Reply STOP to opt out." in page and "Opted in" in page


def test_an_uncertain_delivery_is_settled_from_activity(owner_client, mine):
    page = owner_client.get("/activity/").content.decode()
    assert "It arrived: mark sent" in page

    owner_client.post(f"/activity/{mine.delivery.pk}/resolve/", {"action": "requeue"})

    assert Delivery.objects.get(pk=mine.delivery.pk).status == "pending"


def test_the_owner_can_make_a_new_webhook_secret(owner_client, mine):
    old = mine.business.webhook_secret

    owner_client.post("/settings/webhook-secret/")

    mine.business.refresh_from_db()
    assert mine.business.webhook_secret != old


def test_settings_say_which_states_the_send_window_excludes(owner_client, mine):
    assert "window-excluded-states" not in owner_client.get("/settings/").content.decode()
    mine.business.send_window_start, mine.business.send_window_end = time(20), time(21)
    mine.business.save()

    page = owner_client.get("/settings/").content.decode()

    assert "State law leaves no time inside this window" in page and "FL" in page


def test_the_preset_picker_marks_the_clash_beside_the_field_and_keeps_the_typed_name(
    owner_client, mine
):
    # Issue 13, problem 2: the error was said to be "marked below" but nothing was.
    preset = Campaign.objects.get(preset_key="standard")

    response = owner_client.post(
        "/campaigns/new/", {"preset": preset.pk, "name": "Spring tune-ups", "service_type": ""}
    )

    page = response.content.decode()
    card = page.split(f'id="preset-{preset.pk}"')[1].split("</form>")[0]
    assert 'value="Spring tune-ups"' in card
    assert 'aria-invalid="true"' in card
    assert "already the active all-services campaign" in card
