"""The owner's journeys through the web app, in a real browser."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, log_in
from tests.factories import complete_job, make_campaign, make_customer
from touchbase import clock
from touchbase.campaigns.models import Campaign, Enrollment
from touchbase.campaigns.services import create_template
from touchbase.delivery.models import Delivery
from touchbase.jobs.models import Job
from touchbase.ops.periodic import run_periodic_duties

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_new_owner_signs_up_sets_up_and_starts_a_preset_campaign(page, screenshots, settings):
    settings.TOUCHBASE_SIGNUP = "open"
    page.goto("/accounts/signup/")
    page.get_by_label("Business name").fill("Sparkle Cleaning")
    page.get_by_label("Your email").fill("ana@sparkle.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = next(w for w in mail.outbox[-1].body.split() if "/accounts/verify/" in w)
    page.goto(urlsplit(link).path)
    page.get_by_label("Email").fill("ana@sparkle.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

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
        body="Hi {customer_first_name}! "
        + "Thank you so much for choosing us today. " * 6
        + "Leave a review: {review_link}",
    )
    log_in(page, owner.user.email)
    page.goto(f"/campaigns/{campaign.pk}/edit/")

    # The first text of a sequence names the business and carries the opt-out line, as sent.
    counter, preview = page.locator("#touch1-segments"), page.locator("#touch1-preview")
    # The default first text, link and footer included, is one segment (issue 13).
    expect(counter).to_contain_text("1 segment ")
    expect(preview).to_contain_text("Reply STOP to opt out.")
    page.get_by_label("Message").first.select_option(label="Long thank-you text")

    expect(counter).to_contain_text("3 segments")
    expect(counter).to_contain_text("billed as 3 messages")
    page.get_by_label("Message").nth(3).select_option("")  # drop touch 4
    expect(page.locator("#sequence-drawing li")).to_have_count(3)
    expect(preview).to_contain_text("Bright Air: Hi Maria!")
    page.screenshot(path=screenshots / "03-campaign-sms-segments.png", full_page=True)
    page.get_by_role("button", name="Save campaign").click()
    expect(page.get_by_role("heading", name=re.compile("Fast follow-up"))).to_be_visible()
    assert campaign.touches.get(position=1).template.name == "Long thank-you text"


def test_the_template_editor_refuses_a_text_longer_than_the_worker_sends(page, owner, monkeypatch):
    """The editor's limit is the worker's (segments.MAX_SEGMENTS), not a number of its own."""
    monkeypatch.setattr("touchbase.web.context.MAX_SEGMENTS", 3)  # the page reads it per request
    template = create_template(business=owner.business, name="Short", channel="sms", body="Hi")
    log_in(page, owner.user.email)
    page.goto(f"/templates/{template.pk}/")
    page.locator("#id_body").fill("Thank you for choosing us today. " * 20)  # 5 segments
    expect(page.locator("#template-segments")).to_contain_text("too long (max 3 segments)")


def test_the_dashboard_fits_a_phone(page, owner, screenshots):
    make_campaign(owner.business, "conservative", name="Everyone")
    page.set_viewport_size({"width": 375, "height": 812})
    log_in(page, owner.user.email)

    expect(page.get_by_role("heading", name="This week")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    page.screenshot(path=screenshots / "07-dashboard-phone.png", full_page=True)


def zone_where_it_is_noon() -> str:
    """A time zone in which it is about noon right now, so the worker's send window (and
    the federal 08:00-21:00 floor) lets the touch go out whenever the suite runs."""
    offset = 12 - clock.now().hour  # hours east of UTC; from -11 to +12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def test_a_send_by_the_worker_shows_in_activity_and_on_the_job_timeline(page, owner, screenshots):
    make_campaign(owner.business, "conservative", name="Everyone")
    customer = make_customer(
        owner.business, "Maria Lopez", email="maria@example.com", time_zone=zone_where_it_is_noon()
    )
    job = complete_job(owner.business, customer).job
    due = clock.now() - timedelta(minutes=1)
    Delivery.objects.filter(enrollment__job=job).update(scheduled_at=due, send_after=due)

    call_command("worker", "--once")

    assert [m.to for m in mail.outbox] == [["maria@example.com"]]
    log_in(page, owner.user.email)
    page.get_by_role("link", name="Activity").click()
    row = page.locator("#activity-table tbody tr").first
    expect(row).to_contain_text("Sent")
    expect(row).to_contain_text("maria@example.com")
    page.screenshot(path=screenshots / "04-worker-activity.png", full_page=True)

    row.get_by_role("link", name="Maria Lopez").click()
    expect(page.get_by_text(re.compile(r"Sent .* to maria@example\.com"))).to_be_visible()
    expect(page.get_by_text("Touch 2 · EMAIL")).to_be_visible()
    page.screenshot(path=screenshots / "04-worker-job-timeline.png", full_page=True)


def test_the_job_list_narrows_as_the_owner_types(page, owner):
    for name in ("Maria Lopez", "James Carter"):
        complete_job(owner.business, make_customer(owner.business, name))
    log_in(page, owner.user.email)
    page.goto("/jobs/")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)

    page.get_by_label("Search").press_sequentially("carter")

    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("James Carter")
    assert "q=carter" in page.url  # the filtered list has its own address


PHONE_BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def test_the_customer_opening_the_review_link_stops_the_enrollment(
    browser, page, owner, live_server, screenshots
):
    from touchbase.inbound.links import make_token
    from touchbase.tenancy.models import Business

    # The review page: somewhere the test can reach (the live server itself, plain http,
    # which settings refuse for a real business: written directly).
    Business.objects.filter(pk=owner.business.pk).update(review_url=f"{live_server.url}/healthz")
    make_campaign(owner.business, "standard", name="Everyone")
    job = complete_job(owner.business, make_customer(owner.business, "Maria Lopez")).job
    delivery = Delivery.objects.get(enrollment__job=job)
    sent_at = clock.now() - timedelta(hours=1)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="sent", sent_at=sent_at, to_address="maria@example.com"
    )

    # The customer, on her phone, taps the link in the email.
    phone = browser.new_context(base_url=live_server.url, user_agent=PHONE_BROWSER)
    customer_page = phone.new_page()
    customer_page.goto(f"/r/{make_token(delivery.pk, 'review')}")
    expect(customer_page).to_have_url(re.compile(r"/healthz$"))
    phone.close()

    log_in(page, owner.user.email)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("enrollment-status")).to_have_text("Stopped")
    expect(page.get_by_test_id("stop-reason")).to_have_text("Clicked the review link")
    expect(page.get_by_text(re.compile("Review link clicked"))).to_be_visible()
    page.screenshot(path=screenshots / "05-review-link-stops-enrollment.png", full_page=True)
    assert Enrollment.objects.get(job=job).stop_reason == "review_clicked"


def test_a_csv_import_with_a_bad_row_shows_the_row_error(page, owner, screenshots, tmp_path):
    make_campaign(owner.business, "standard", name="Everyone")
    csv_file = tmp_path / "jobs.csv"
    csv_file.write_text(
        "job number,name,email,service,status\n"
        "J-100,Maria Lopez,maria@example.com,hvac,completed\n"
        "J-101,James Carter,james@example.com,rocket science,completed\n"
        "J-102,Aiko Tanaka,aiko@example.com,plumbing,completed\n"
    )
    log_in(page, owner.user.email)
    page.get_by_role("link", name="Jobs", exact=True).click()
    page.get_by_role("link", name="Import from a spreadsheet").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Preview").click()

    errors = page.locator("#row-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("3")
    expect(errors.first).to_contain_text("rocket science")
    expect(page.locator("#import-report")).to_contain_text("1 with errors")
    page.screenshot(path=screenshots / "06-csv-import-row-error.png", full_page=True)

    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_role("heading", name="Waiting for the worker")).to_be_visible()
    run_periodic_duties(wait=True)  # the worker's duty; the page, polling, shows the end
    expect(page.get_by_role("heading", name="Imported", exact=True)).to_be_visible()
    expect(page.locator("#import-bar")).to_have_attribute("value", "100")
    expect(page.locator("#row-errors tbody tr")).to_have_count(1)
    assert set(Job.objects.values_list("external_id", flat=True)) == {"J-100", "J-102"}
