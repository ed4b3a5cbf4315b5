"""The owner's journeys through the web app, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, log_in
from tests.factories import make_campaign
from touchbase.campaigns.models import Campaign, Enrollment
from touchbase.campaigns.services import create_template

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_new_owner_signs_up_sets_up_and_starts_a_preset_campaign(page, screenshots):
    page.goto("/accounts/signup/")
    page.get_by_label("Business name").fill("Sparkle Cleaning")
    page.get_by_label("Your email").fill("ana@sparkle.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Set up Sparkle Cleaning")).to_be_visible()
    page.get_by_label("Time zone").select_option("America/Chicago")
    page.get_by_label("Review link").fill("https://g.page/r/sparkle/review")
    page.get_by_label("Postal address for emails").fill("9 Elm St, Austin, TX 78701")
    page.get_by_label("Cleaning", exact=True).check()
    page.get_by_text("Hours before the first message, per service").click()
    page.get_by_label("Hours before the first message (Cleaning)").fill("4")
    page.get_by_role("button", name="Save and choose a campaign").click()

    expect(page.get_by_role("heading", name="Pick a campaign")).to_be_visible()
    page.get_by_role("button", name="Use Standard").click()

    expect(page.get_by_text("Standard is running")).to_be_visible()
    page.screenshot(path=screenshots / "01-signup-onboarding-campaign.png", full_page=True)
    campaign = Campaign.objects.get(business__name="Sparkle Cleaning")
    assert campaign.status == "active" and campaign.touches.count() == 3
    assert campaign.business.service_type_timing == {"cleaning": 4}
    assert campaign.business.time_zone == "America/Chicago"


def test_adding_a_completed_job_shows_its_enrollment(page, owner, screenshots):
    make_campaign(owner.business, "standard", name="Everyone")
    log_in(page, owner.user.email)

    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="Add a job").click()
    page.get_by_label("New customer's name").fill("Maria Lopez")
    page.get_by_label("Email", exact=True).fill("maria@example.com")
    page.get_by_label("Service").select_option("hvac")
    expect(page.get_by_label("Status")).to_have_value("completed")
    expect(page.get_by_label("Enroll in campaign")).to_be_checked()
    page.get_by_role("button", name="Save job").click()

    expect(page.locator("#enrollment-outcome")).to_contain_text("Enrolled in Everyone")
    expect(page.get_by_test_id("enrollment-status")).to_have_text("Active")
    expect(page.get_by_text(re.compile(r"Touch 1 · EMAIL"))).to_be_visible()
    page.screenshot(path=screenshots / "02-job-enrollment.png", full_page=True)
    assert Enrollment.objects.get(job__customer__name="Maria Lopez").status == "active"


def test_changing_an_sms_touch_message_changes_the_segment_count(page, owner, screenshots):
    campaign = make_campaign(owner.business, "aggressive", name="Fast follow-up")
    assert campaign.touches.get(position=1).channel == "sms"
    create_template(
        business=owner.business,
        name="Long thank-you text",
        channel="sms",
        body="Hi {customer_first_name}! " + "Thank you so much for choosing us today. " * 6
        + "Leave a review: {review_link}",
    )
    log_in(page, owner.user.email)
    page.goto(f"/campaigns/{campaign.pk}/edit/")

    counter = page.locator("#touch1-segments")
    expect(counter).to_contain_text("1 segment ")
    page.get_by_label("Message").first.select_option(label="Long thank-you text (SMS)")

    expect(counter).to_contain_text("3 segments")
    expect(counter).to_contain_text("GSM-7")
    expect(page.locator("#touch1-preview")).to_contain_text("Hi Maria!")
    page.screenshot(path=screenshots / "03-campaign-sms-segments.png", full_page=True)
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("heading", name=re.compile("Fast follow-up"))).to_be_visible()
    assert campaign.touches.get(position=1).template.name == "Long thank-you text"


def test_the_dashboard_fits_a_phone(page, owner, screenshots):
    make_campaign(owner.business, "conservative", name="Everyone")
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, owner.user.email)

    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    page.screenshot(path=screenshots / "07-dashboard-phone.png", full_page=True)

