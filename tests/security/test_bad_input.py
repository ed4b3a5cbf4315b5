"""Bad input answers 4xx naming the problem, never a server error."""

import base64

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import complete_job, make_customer

pytestmark = pytest.mark.django_db
UNCONFIGURED_ESPS = ["mailgun", "postal", "mandrill", "mailersend", "unisender_go", "amazon_ses"]


def authorized():
    secret = settings.ANYMAIL["WEBHOOK_SECRET"]
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.mark.parametrize("esp", UNCONFIGURED_ESPS)
def test_an_unconfigured_email_provider_hook_answers_404_naming_it(esp):
    client = Client(raise_request_exception=False)

    for headers in ({}, authorized()):
        response = client.post(
            f"/hooks/email/{esp}/tracking/", "{}", content_type="application/json", **headers
        )
        assert response.status_code == 404
        assert esp in response.json()["error"]["esp"]


@pytest.mark.parametrize("esp", ["resend", "mailjet"])
def test_json_that_is_not_the_providers_event_shape_answers_400(esp):
    response = Client(raise_request_exception=False).post(
        f"/hooks/email/{esp}/tracking/", "{}", content_type="application/json", **authorized()
    )

    assert response.status_code == 400 and "body" in response.json()["error"]


def test_a_nul_in_a_search_or_filter_is_dropped(client, business, owner):
    customer = make_customer(business, "Pat Doe", phone="+13055550142")
    complete_job(business, customer)
    client.force_login(owner)

    for url in ["/customers/?q=%00Pat", "/jobs/?q=Pat%00&status=%00", "/activity/?status=%00"]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Pat Doe" in client.get("/customers/?q=%00Pat").content.decode()
    assert "Pat Doe" in client.get("/jobs/?q=Pat%00").content.decode()
