"""The owner's main pages have no WCAG 2 A/AA violations that axe-core can detect (labels,
contrast, landmarks, ARIA), at desktop and phone widths. axe-core comes from npm."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.layout import layout_problems
from tests.factories import complete_job, make_campaign, make_customer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[str]:
    # Through DevTools, not a <script> tag: the page's CSP (rightly) refuses inline script.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa']})"
    )
    assert result["passes"], "axe-core did not run"
    return [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]


def owner_pages(campaign, job) -> list[str]:
    """Every kind of page an owner sees, for the layout and accessibility checks."""
    return [
        "/",
        "/jobs/",
        "/jobs/new/",
        f"/jobs/{job.pk}/",
        "/customers/",
        f"/customers/{job.customer_id}/",
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        f"/campaigns/{campaign.pk}/edit/",
        "/templates/",
        "/templates/new/",
        "/activity/?status=all",
        "/settings/",
        "/settings/brand/",
        "/settings/api-keys/",
        "/jobs/import/",
        "/onboarding/",
    ]


@pytest.mark.parametrize("width", [1280, 375])
def test_the_main_pages_pass_axe(page, owner, width):
    campaign = make_campaign(owner.business, "aggressive", name="Everyone")
    job = complete_job(owner.business, make_customer(owner.business, "Maria Lopez")).job
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, owner.user.email)
    problems = {}
    for url in owner_pages(campaign, job):
        page.goto(url)
        found = violations(page) + layout_problems(page, width)
        if found:
            problems[url] = found
    assert not problems, problems


def test_the_sign_up_and_log_in_pages_pass_axe(page):
    problems = {}
    for url in ["/accounts/signup/", "/accounts/login/", "/accounts/password-reset/"]:
        page.goto(url)
        found = violations(page)
        if found:
            problems[url] = found
    assert not problems, problems


def test_a_keyboard_user_skips_to_the_content_and_reaches_the_navigation_in_order(page, owner):
    log_in(page, owner.user.email)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.goto("/")
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert order == ["Skip to content", "touchbase", "Log out", "Dashboard", "Jobs"]
