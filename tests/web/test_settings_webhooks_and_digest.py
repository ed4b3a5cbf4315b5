"""Settings > Webhooks (endpoints, secret shown once, delivery log, replay), Settings > Digest."""

from tests.factories import failed_message
from tests.web.test_csrf import post_forms
from touchbase.webhooks.models import WebhookEndpoint
from touchbase.webhooks.services import create_endpoint

URL = "https://93.184.215.14/hooks/touchbase"


def test_adding_an_endpoint_shows_its_secret_once(owner_client, mine):
    response = owner_client.post(
        "/settings/webhooks/", {"url": URL, "events": ["delivery.sent", "customer.opted_out"]}
    )

    endpoint = WebhookEndpoint.objects.get(business=mine.business, url=URL)
    assert endpoint.events == ["delivery.sent", "customer.opted_out"]
    assert endpoint.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert endpoint.secret not in owner_client.get("/settings/webhooks/").content.decode()
    assert (
        endpoint.secret
        not in owner_client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    )


def test_a_private_address_is_refused_on_the_url_field(owner_client, mine):
    response = owner_client.post("/settings/webhooks/", {"url": "https://10.0.0.5/hook"})

    assert response.status_code == 200
    assert "private" in response.context["form"].errors["url"][0]
    assert not WebhookEndpoint.objects.filter(url__contains="10.0.0.5").exists()


def test_the_log_shows_each_try_and_replays_a_message(owner_client, mine, clock):
    endpoint, message = failed_message(mine.business, "review_link.clicked")
    message.tries.create(number=1, started_at=endpoint.created_at, status_code=500, latency_ms=12)

    page = owner_client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    assert "review_link.clicked" in page and "HTTP 500" in page
    owner_client.post(f"/settings/webhooks/messages/{message.pk}/replay/")

    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)


def test_a_disabled_endpoint_is_explained_and_turned_back_on(owner_client, mine):
    endpoint = create_endpoint(business=mine.business, url=URL).endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=endpoint.created_at, disabled_reason="every try failed (HTTP 503)"
    )

    assert "HTTP 503" in owner_client.get(f"/settings/webhooks/{endpoint.pk}/").content.decode()
    owner_client.post(f"/settings/webhooks/{endpoint.pk}/enable/")

    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_another_businesss_endpoint_answers_404_everywhere(owner_client, theirs):
    endpoint, message = theirs.webhook_endpoint, theirs.webhook_message

    assert owner_client.get(f"/settings/webhooks/{endpoint.pk}/").status_code == 404
    for url in (
        f"/settings/webhooks/messages/{message.pk}/replay/",
        f"/settings/webhooks/{endpoint.pk}/enable/",
        f"/settings/webhooks/{endpoint.pk}/delete/",
    ):
        assert owner_client.post(url).status_code == 404, url
    assert endpoint.url not in owner_client.get("/settings/webhooks/").content.decode()
    message.refresh_from_db()
    assert message.status == "failed"
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_the_webhook_pages_forms_carry_the_csrf_token(owner_client, mine):
    endpoint = create_endpoint(business=mine.business, url=URL).endpoint
    for url in ("/settings/webhooks/", f"/settings/webhooks/{endpoint.pk}/"):
        forms = post_forms(owner_client, url)
        assert forms and all(has_token for _, has_token in forms), url


def test_the_digest_page_previews_this_week_and_saves_the_members_choice(owner_client, mine):
    from touchbase.digest.models import DigestPreference

    page = owner_client.get("/digest/").content.decode()
    assert "Review requests sent by email" in page
    assert all(has_token for _, has_token in post_forms(owner_client, "/digest/"))

    owner_client.post("/digest/", {"frequency": "monthly"})

    assert DigestPreference.objects.get(membership__user=mine.user).frequency == "monthly"
