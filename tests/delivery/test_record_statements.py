"""The record step is the worker's bottleneck: one write of answers, with their webhook
events, the enrollments it completes and the attempt rows, takes a fixed handful of
statements however many answers it holds (a cheaper write leaves a kill fewer answers
unwritten)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.bulk import make_due_deliveries, unthrottled_business
from touchbase.delivery.sending import SendAndRecord
from touchbase.webhooks.models import WebhookEndpoint, WebhookMessage
from touchbase.webhooks.services import create_endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def writes(monkeypatch):
    """The statements of each record write (`_record`), one list per write."""
    captured: list[list[str]] = []
    record = SendAndRecord._record

    def counted(self, sends, touches):
        with CaptureQueriesContext(connection) as queries:
            tally = record(self, sends, touches)
        captured.append([q["sql"] for q in queries.captured_queries])
        return tally

    monkeypatch.setattr(SendAndRecord, "_record", counted)
    return captured


def naming(table: str, statements: list[str]) -> list[str]:
    return [sql for sql in statements if table in sql]


@pytest.mark.parametrize("with_endpoint", [False, True])
def test_a_record_write_looks_up_endpoints_once_and_inserts_events_once(
    engine, writes, settings, with_endpoint
):
    settings.TOUCHBASE_WEBHOOKS = {**settings.TOUCHBASE_WEBHOOKS, "allow_private": True}
    business = unthrottled_business()
    if with_endpoint:
        create_endpoint(business=business, url="https://127.0.0.1/hook")
    make_due_deliveries(business, 12)

    assert engine.run_batch().counts["sent"] == 12

    written = [statements for statements in writes if statements]
    assert written
    for statements in written:
        assert len(naming(WebhookEndpoint._meta.db_table, statements)) == 1
        assert len(naming(WebhookMessage._meta.db_table, statements)) == int(with_endpoint)
        # PostgreSQL: the lock with the endpoint look-up, then one statement for outcomes,
        # attempts, completions (and the events); SQLite: each of those its own
        if connection.vendor == "postgresql":
            assert len(statements) == 2
        else:
            assert len(statements) == 5 + int(with_endpoint)
    # every send's delivery.sent and its enrollment.completed, nothing for no endpoint
    assert WebhookMessage.objects.count() == (24 if with_endpoint else 0)
