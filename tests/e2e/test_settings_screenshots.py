"""The webhook settings and the digest preview on the demo business's data, in a real
browser; takes their README screenshots (TOUCHBASE_README_SCREENSHOTS=1)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in
from tests.e2e.test_phone_layout import publish
from touchbase import clock
from touchbase.ops.demo import DEMO_EMAIL, demo_password, seed_demo
from touchbase.tenancy.models import Business
from touchbase.webhooks.models import WebhookMessage
from touchbase.webhooks.services import create_endpoint

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_webhook_log_and_the_digest_preview_of_the_demo_business(page, screenshots):
    seed_demo()
    business = Business.objects.get(memberships__user__email=DEMO_EMAIL)
    endpoint = create_endpoint(
        business=business,
        url="https://93.184.215.14/hooks/touchbase",
        events=["delivery.sent", "review_link.clicked", "customer.opted_out"],
    ).endpoint
    now = clock.now()
    for minutes, (event, codes) in enumerate(
        [("delivery.sent", [200]), ("review_link.clicked", [503, 200]), ("delivery.sent", [500])]
    ):
        message = WebhookMessage.objects.create(
            business=business,
            endpoint=endpoint,
            message_id=f"msg_demo_{minutes}",
            event_type=event,
            payload="{}",
            created_at=now - timedelta(minutes=30 - minutes),
            next_attempt_at=now + timedelta(minutes=5),
            status="delivered" if codes[-1] == 200 else "pending",
            attempts=len(codes),
        )
        for number, code in enumerate(codes, start=1):
            message.tries.create(
                number=number, started_at=message.created_at, status_code=code, latency_ms=84
            )
    log_in(page, DEMO_EMAIL, demo_password())

    page.goto(f"/settings/webhooks/{endpoint.pk}/")
    expect(page.get_by_text("HTTP 503")).to_be_visible()
    expect(page.get_by_role("button", name="Replay").first).to_be_visible()
    shot = screenshots / "webhook-endpoint.png"
    page.screenshot(path=shot, full_page=True)
    publish(shot, "webhook-endpoint.png")

    page.goto("/digest/")
    expect(page.get_by_text("Review requests sent by email")).to_be_visible()
    shot = screenshots / "digest-preview.png"
    page.screenshot(path=shot, full_page=True)
    publish(shot, "digest-preview.png")
