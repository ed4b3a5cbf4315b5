"""Safe by default: no endpoint may point touchbase at its own network."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import complete_job, make_business, make_campaign, make_customer
from touchbase import clock as touchbase_clock
from touchbase.ops.periodic import run_periodic_duties
from touchbase.webhooks.models import WebhookEndpoint, WebhookMessage
from touchbase.webhooks.services import create_endpoint, new_secret

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost:8443/hook", "private"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("http://example.com/hook", "https"),
        ("ftp://example.com/hook", "https"),
        ("https://user:pw@example.com/hook", "password"),
    ],
)
def test_an_endpoint_inside_the_network_or_without_tls_is_refused(url, reason):
    with pytest.raises(ValidationError) as refused:
        create_endpoint(business=make_business(), url=url)

    assert reason in refused.value.message_dict["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_the_address_is_checked_again_before_each_try(clock, receiver, settings):
    """A name that resolved to a public address when saved may point inside later (DNS
    rebinding): the worker checks the address it connects to, every time."""
    settings.DEBUG = True  # allows the receiver's plain http, not its private address
    business = make_business()
    make_campaign(business, "conservative")
    WebhookEndpoint.objects.create(
        business=business, url=receiver.url, secret=new_secret(), created_at=touchbase_clock.now()
    )
    complete_job(business, make_customer(business))

    run_periodic_duties(wait=True)

    assert receiver.requests == []
    message = WebhookMessage.objects.get()
    assert message.status == "pending"
    assert "refused" in message.last_error and "127.0.0.1" in message.last_error


def test_the_operator_may_allow_private_addresses(allow_private, receiver):
    created = create_endpoint(business=make_business(), url=receiver.url)

    assert created.endpoint.url == receiver.url
    assert created.secret.startswith("whsec_")
