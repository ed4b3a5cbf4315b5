"""The recorder writes each answer while later calls are still being made, and never lets
calls in flight plus answers not yet written exceed the worker's concurrency: what a kill
can leave `uncertain`. PostgreSQL: the recorder has a connection of its own."""

import threading

import psycopg
import pytest

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.processes import database_url
from touchbase.delivery.backends.sms import MemorySmsTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
CONCURRENCY = 4
STARTED_NOT_RECORDED = (
    "SELECT count(*) FROM delivery_delivery WHERE status = 'sending' AND sent_at IS NOT NULL"
)


class WatchesTheTable(MemorySmsTransport):
    """Looks, at each call, at what a kill would leave `uncertain` right then (every row
    committed as started and not yet recorded) and at how many answers are already in."""

    def __init__(self):
        self.database = psycopg.connect(database_url(), autocommit=True)
        self.looking = threading.Lock()
        self.exposed: list[int] = []
        self.sent_before: list[int] = []

    def send(self, message, *, idempotency_key):
        with self.looking:
            self.exposed.append(self.database.execute(STARTED_NOT_RECORDED).fetchone()[0])
            sent = "SELECT count(*) FROM delivery_delivery WHERE status = 'sent'"
            self.sent_before.append(self.database.execute(sent).fetchone()[0])
        return super().send(message, idempotency_key=idempotency_key)


@pytest.fixture
def transport(sms_outbox):
    watcher = WatchesTheTable()
    yield watcher
    watcher.database.close()


def test_a_kill_could_never_leave_more_than_concurrency_calls_uncertain(transport):
    make_due_deliveries(unthrottled_business(), 120)
    engine = DeliveryEngine(
        batch_size=120, concurrency=CONCURRENCY, owner="recorder", transports={"sms": transport}
    )

    outcome = engine.run_batch()

    assert outcome.counts["sent"] == 120
    assert max(transport.exposed) <= CONCURRENCY
    # Answers were written while the batch was still calling, not at its end.
    assert transport.sent_before[-1] >= 120 - 2 * CONCURRENCY
    assert Delivery.objects.filter(status="sent").count() == 120
