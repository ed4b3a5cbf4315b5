import pytest

from tests.servers import SmtpServer, TwilioStandIn
from touchbase.delivery.backends.email import DjangoEmailTransport
from touchbase.delivery.backends.sms import MemorySmsTransport
from touchbase.delivery.engine import DeliveryEngine


@pytest.fixture
def sms_outbox():
    MemorySmsTransport.outbox = []
    return MemorySmsTransport.outbox


@pytest.fixture
def engine(sms_outbox, mailoutbox):
    """The real engine with in-process transports: Django's locmem email backend and the
    memory SMS transport (the zero-latency providers)."""
    return DeliveryEngine(
        batch_size=50,
        concurrency=1,
        lease_seconds=60,
        window_spread_minutes=30,
        owner="test-worker",
        transports={
            "email": DjangoEmailTransport("django.core.mail.backends.locmem.EmailBackend"),
            "sms": MemorySmsTransport(),
        },
    )


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def twilio():
    stand_in = TwilioStandIn().start()
    yield stand_in
    stand_in.stop()
