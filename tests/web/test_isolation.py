"""Another business's data is never visible or changeable, whatever id is guessed: every
page that takes an id answers 404 for another business's object (PRODUCT §7)."""

import pytest

from touchbase.campaigns.models import CampaignStatus, EnrollmentStatus
from touchbase.delivery.models import DeliveryStatus

# (method, url pattern, attribute of the Tenant whose pk goes in the url)
OBJECT_PAGES = [
    ("get", "/jobs/{}/", "job"),
    ("get", "/jobs/{}/edit/", "job"),
    ("post", "/jobs/{}/edit/", "job"),
    ("post", "/jobs/{}/complete/", "job"),
    ("post", "/jobs/{}/enroll/", "job"),
    ("get", "/customers/{}/", "customer"),
    ("get", "/customers/{}/edit/", "customer"),
    ("post", "/customers/{}/edit/", "customer"),
    ("post", "/customers/{}/consent/", "customer"),
    ("get", "/campaigns/{}/", "campaign"),
    ("get", "/campaigns/{}/edit/", "campaign"),
    ("post", "/campaigns/{}/edit/", "campaign"),
    ("post", "/campaigns/{}/toggle/", "campaign"),
    ("post", "/campaigns/{}/duplicate/", "campaign"),
    ("post", "/campaigns/{}/delete/", "campaign"),
    ("post", "/enrollments/{}/stop/", "enrollment"),
    ("get", "/templates/{}/", "template"),
    ("post", "/templates/{}/", "template"),
    ("post", "/templates/{}/copy/", "template"),
    ("post", "/activity/{}/resolve/", "delivery"),
    ("post", "/settings/api-keys/{}/revoke/", "api_key"),
    ("post", "/settings/team/members/{}/remove/", "membership"),
    ("post", "/settings/team/invitations/{}/revoke/", "invitation"),
    ("get", "/settings/webhooks/{}/", "webhook_endpoint"),
    ("post", "/settings/webhooks/{}/enable/", "webhook_endpoint"),
    ("post", "/settings/webhooks/{}/delete/", "webhook_endpoint"),
    ("post", "/settings/webhooks/messages/{}/replay/", "webhook_message"),
    ("get", "/jobs/imports/{}/", "web_import"),
    ("get", "/jobs/imports/{}/errors.csv", "web_import"),
]


@pytest.mark.parametrize(("method", "pattern", "attribute"), OBJECT_PAGES)
def test_every_page_answers_404_for_another_business_object(
    owner_client, theirs, method, pattern, attribute
):
    url = pattern.format(getattr(theirs, attribute).pk)

    response = getattr(owner_client, method)(url, {"action": "sent", "granted": "0"})

    assert response.status_code == 404, url


@pytest.mark.parametrize(("method", "pattern", "attribute"), OBJECT_PAGES)
def test_the_same_pages_work_for_the_business_own_objects(
    owner_client, mine, method, pattern, attribute
):
    url = pattern.format(getattr(mine, attribute).pk)

    response = getattr(owner_client, method)(url, {"action": "sent", "granted": "0"})

    assert response.status_code in (200, 302), url


def test_nothing_of_the_other_business_changed_after_every_attempt(owner_client, theirs):
    for method, pattern, attribute in OBJECT_PAGES:
        url = pattern.format(getattr(theirs, attribute).pk)
        getattr(owner_client, method)(url, {"action": "sent", "granted": "0", "name": "Hacked"})

    theirs.campaign.refresh_from_db()
    theirs.enrollment.refresh_from_db()
    theirs.delivery.refresh_from_db()
    assert theirs.campaign.status == CampaignStatus.ACTIVE
    assert theirs.campaign.name == "Rival Plumbing sequence"
    assert theirs.enrollment.status == EnrollmentStatus.ACTIVE
    assert theirs.delivery.status == DeliveryStatus.UNCERTAIN
    assert theirs.customer.__class__.objects.get(pk=theirs.customer.pk).sms_consent == "unknown"
    assert theirs.business.memberships.filter(pk=theirs.membership.pk).exists()
    theirs.invitation.refresh_from_db()
    assert theirs.invitation.revoked_at is None


@pytest.mark.parametrize(
    "url", ["/", "/jobs/", "/customers/", "/campaigns/", "/templates/", "/activity/"]
)
def test_lists_show_only_the_current_business(owner_client, theirs, url):
    page = owner_client.get(url, {"status": "all"}).content.decode()

    assert "Rival" not in page


def test_a_forged_business_id_in_the_switcher_is_refused(owner_client, mine, theirs):
    response = owner_client.post("/business/switch/", {"business": theirs.business.pk})

    assert response.status_code == 302
    assert "Bright Air" in owner_client.get("/").content.decode()
    assert "Rival" not in owner_client.get("/jobs/").content.decode()


def test_every_owner_page_needs_a_login(client, mine):
    for url in ["/", "/jobs/", f"/jobs/{mine.job.pk}/", "/settings/", "/onboarding/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
