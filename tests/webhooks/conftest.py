import pytest

from tests.delivery.conftest import engine, sms_outbox  # noqa: F401  (shared fixtures)
from tests.factories import make_business, make_campaign
from tests.servers import WebhookReceiver
from touchbase.webhooks.services import create_endpoint


@pytest.fixture
def allow_private(settings):
    """The receiver listens on 127.0.0.1, which production refuses: the operator's opt-in."""
    settings.TOUCHBASE_WEBHOOKS = {
        **settings.TOUCHBASE_WEBHOOKS,
        "allow_private": True,
        "timeout_seconds": 1,
    }


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def business():
    business = make_business(email_hourly_limit=1_000_000)
    make_campaign(business, "conservative")
    return business


@pytest.fixture
def endpoint(business, receiver, allow_private):
    """The business's endpoint and its secret (shown once, at creation)."""
    return create_endpoint(business=business, url=receiver.url)
