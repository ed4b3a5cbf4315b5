"""Issue 13, problems 6 and 9 in a real browser: at 375 px no page is wider than the screen
and no label, badge or value breaks in the middle of a word; customer-facing pages carry the
business's brand and pass axe. Also takes the README's screenshots (docs/)."""

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import log_in
from tests.e2e.layout import layout_problems
from tests.e2e.test_accessibility import owner_pages, violations
from tests.factories import complete_job, make_campaign, make_customer
from touchbase.delivery.models import Delivery
from touchbase.inbound.links import make_token

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DOCS = Path(__file__).resolve().parents[2] / "docs"


def publish(shot: Path, name: str) -> None:
    """README screenshots are retaken on request (TOUCHBASE_README_SCREENSHOTS=1), so a test
    run does not leave the tree changed."""
    if os.environ.get("TOUCHBASE_README_SCREENSHOTS") == "1":
        shutil.copy(shot, DOCS / name)


def customer_page_problems(page, delivery, extra=()) -> dict:
    """Axe violations and layout problems at 375 px of a delivery's feedback and
    unsubscribe pages (and `extra` URLs), by URL."""
    problems = {}
    for url in [
        f"/f/{make_token(delivery.pk, 'feedback')}",
        f"/u/{make_token(delivery.pk, 'unsubscribe')}",
        *extra,
    ]:
        page.goto(url)
        found = violations(page) + layout_problems(page, 375)
        if found:
            problems[url] = found
    return problems


def test_every_owner_page_fits_a_phone_without_breaking_words(page, owner):
    business = owner.business
    campaign = make_campaign(business, "aggressive", name="Everyone")
    customer = make_customer(business, "Maria Lopez", phone="+13055550142")
    job = complete_job(business, customer, external_id="ST-1042").job
    Delivery.objects.filter(enrollment__job=job).update(
        status="failed",
        provider_message_id="SM" + "0123456789abcdef" * 4,
        error_code="30003",
        error_message="Unreachable destination handset: the carrier says this phone is off",
    )
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, owner.user.email)
    problems = {}
    for url in owner_pages(campaign, job):
        page.goto(url)
        found = layout_problems(page, 375)
        if found:
            problems[url] = found
    # A long provider id in the message a test send leaves on the settings page.
    page.goto("/settings/")
    page.get_by_role("button", name="Send me a test email").click()
    page.wait_for_url("**/settings/")
    found = layout_problems(page, 375)
    if found:
        problems["/settings/ after a test email"] = found
    assert not problems, problems


def test_customer_pages_carry_the_brand_fit_a_phone_and_pass_axe(page, owner, screenshots):
    business = owner.business
    make_campaign(business, "standard")
    job = complete_job(business, make_customer(business, "Maria Lopez")).job
    delivery = Delivery.objects.get(enrollment__job=job)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, owner.user.email)
    page.goto("/settings/brand/")
    page.locator("#id_colour").fill("#0b6e4f")
    page.get_by_role("button", name="Save brand").click()
    page.wait_for_url("**/settings/brand/")
    page.get_by_role("link", name="Log out").count() and page.context.clear_cookies()

    page.set_viewport_size({"width": 375, "height": 740})
    problems = customer_page_problems(page, delivery, extra=["/r/not-a-token"])
    assert not problems, problems

    page.goto(f"/f/{make_token(delivery.pk, 'feedback')}")
    assert page.locator("header.brand").inner_text().strip() == "Bright Air"
    colour = page.evaluate(
        "getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor"
    )
    assert colour == "rgb(11, 110, 79)"
    shot = screenshots / "customer-feedback-phone.png"
    page.screenshot(path=shot, full_page=True)
    publish(shot, "customer-feedback-phone.png")


def test_the_demo_dashboard_is_alive(page, screenshots):
    from touchbase.ops.demo import DEMO_EMAIL, demo_password, seed_demo

    seed_demo()
    log_in(page, DEMO_EMAIL, demo_password())

    assert page.locator(".stat .value").first.inner_text() != "0"  # sent this week
    shot = screenshots / "demo-dashboard.png"
    page.screenshot(path=shot, full_page=True)
    publish(shot, "dashboard.png")
