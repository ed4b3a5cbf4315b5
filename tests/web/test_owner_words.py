"""Issue 13, problem 7: what the owner reads is in their words and follows their business."""

import pytest
from django.core import mail

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase.delivery.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipes(clock):
    return make_business("Pipes Only", service_types=["plumbing"])


@pytest.fixture
def owner(owner_of, pipes):
    return owner_of(pipes)


def test_the_test_email_has_a_real_html_part(owner):
    owner.post("/settings/test-message/", {"channel": "email"})

    (message,) = mail.outbox
    ((html, kind),) = message.alternatives
    assert kind == "text/html" and "your review requests can go out this way" in html


def test_activity_shows_reasons_in_words_not_codes(owner, pipes):
    make_campaign(pipes, "standard", service_type="plumbing")
    job = complete_job(pipes, make_customer(pipes), service_type="plumbing").job
    Delivery.objects.filter(enrollment__job=job).update(
        status="cancelled", skip_reason="review_clicked"
    )

    page = owner.get("/activity/?status=all").content.decode()

    assert "clicked the review link" in page
    assert "review_clicked" not in page


def test_job_links_name_the_job_number(owner, pipes):
    campaign = make_campaign(pipes, "standard", service_type="plumbing")
    complete_job(pipes, make_customer(pipes), service_type="plumbing", external_id="ST-1042")

    page = owner.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert "Plumbing · ST-1042" in page
    assert "Plumbing #" not in page


def test_add_a_job_defaults_to_the_business_service(owner):
    page = owner.get("/jobs/new/").content.decode()

    assert '<option value="plumbing" selected>' in page
    assert '<option value="hvac" selected>' not in page


def test_the_customer_time_zone_is_a_list_not_a_free_text_box(owner):
    page = owner.get("/customers/new/").content.decode()

    assert '<select name="time_zone"' in page
    assert '<option value="America/Chicago">' in page
    response = owner.post("/customers/new/", {"name": "Pat", "time_zone": "Eastern"})
    assert response.status_code == 200
    assert "Eastern is not one of the available choices" in response.content.decode()
