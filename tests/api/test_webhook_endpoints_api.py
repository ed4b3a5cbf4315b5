import pytest

from tests.api.conftest import error_of
from touchbase.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
URL = "https://93.184.215.14/hooks/touchbase"  # a public address: no DNS needed


def test_an_endpoint_is_created_with_its_secret_shown_once(api):
    created = api.post("/webhook-endpoints", {"url": URL, "events": ["delivery.sent"]})

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["delivery.sent"]
    listed = api.get("/webhook-endpoints").json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/webhook-endpoints/{body['id']}").json()


def test_empty_events_means_every_event(api):
    body = api.post("/webhook-endpoints", {"url": URL}).json()

    assert body["events"] == []
    assert WebhookEndpoint.objects.get().wants("feedback.received")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "https://127.0.0.1/hook"}, "url"),
        ({"url": "http://93.184.215.14/hook"}, "url"),
        ({"url": URL, "events": ["delivery.exploded"]}, "events.0"),
        ({}, "url"),
    ],
)
def test_a_bad_endpoint_is_refused_naming_the_field(api, payload, field):
    response = api.post("/webhook-endpoints", payload)

    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert not WebhookEndpoint.objects.exists()


def test_another_businesss_endpoint_cannot_be_seen_or_deleted(api, other_api):
    mine = api.post("/webhook-endpoints", {"url": URL}).json()["id"]

    assert other_api.get(f"/webhook-endpoints/{mine}").status_code == 404
    assert other_api.client.delete(f"/api/v1/webhook-endpoints/{mine}").status_code == 404
    assert other_api.get("/webhook-endpoints").json()["items"] == []
    assert WebhookEndpoint.objects.filter(pk=mine).exists()


def test_deleting_an_endpoint(api):
    mine = api.post("/webhook-endpoints", {"url": URL}).json()["id"]

    assert api.client.delete(f"/api/v1/webhook-endpoints/{mine}").status_code == 204
    assert api.get(f"/webhook-endpoints/{mine}").status_code == 404
