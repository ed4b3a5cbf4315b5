"""Deciding a batch reads it in a fixed handful of statements however many rows it holds:
the rows load only the columns the rules read (a deferred column read by one of them would
be a query per row), each business once, and the decided write names only the columns some
verdict changed. Send windows are computed once per business and recipient zone: two
recipients of one business in different zones still get their own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.bulk import make_due_deliveries, unthrottled_business
from touchbase.customers.models import Customer
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import AreaCodeState, Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def decisions(monkeypatch):
    """The statements of each decide step (`_decide`), one list per batch."""
    captured: list[list[str]] = []
    decide = DeliveryEngine._decide

    def counted(self, ids, now, counts):
        with CaptureQueriesContext(connection) as queries:
            decided = decide(self, ids, now, counts)
        # The area codes' states are a per-process cache re-read every minute, not per batch.
        table = AreaCodeState._meta.db_table
        captured.append([q["sql"] for q in queries.captured_queries if table not in q["sql"]])
        return decided

    monkeypatch.setattr(DeliveryEngine, "_decide", counted)
    return captured


def test_deciding_a_batch_takes_the_same_statements_whatever_its_size(engine, decisions, clock):
    business = unthrottled_business()
    other = unthrottled_business("Second Sender")
    make_due_deliveries(business, 2)
    assert engine.run_batch().counts["sent"] == 2
    make_due_deliveries(business, 30, first_id=2)
    make_due_deliveries(other, 18, first_id=100)
    assert engine.run_batch().counts["sent"] == 48

    small, large = decisions
    # the locked rows, businesses, suppressed numbers, texted enrollments, touches, state
    # rules, recent sends, throttle rows (insert missing, lock), the decided write, the
    # throttle write
    assert len(small) == len(large) == 11, large


def test_the_decided_write_names_only_the_columns_its_verdicts_changed(engine, decisions):
    make_due_deliveries(unthrottled_business(), 3)

    assert engine.run_batch().counts["sent"] == 3

    (statements,) = decisions
    # (SQLite runs it as one prepared statement per row: "3 times: UPDATE ...")
    (write,) = [sql for sql in statements if 'UPDATE "delivery_delivery"' in sql]
    assigned = write.split(" SET ")[1]
    for column in ("status", "to_address", "body_text", "updated_at"):
        assert f'"{column}" = ' in assigned
    for column in ("skip_reason", "error_message", "lease_owner", "subject"):
        assert f'"{column}" = ' not in assigned


def test_two_recipients_of_one_business_in_different_zones_get_their_own_windows(engine, clock):
    # 15:00 UTC: 10:00 in New York (open), midnight in Tokyo (closed).
    business = unthrottled_business()
    open_now = make_due_deliveries(business, 1, time_zone="America/New_York")
    closed_now = make_due_deliveries(business, 1, first_id=1, time_zone="Asia/Tokyo")

    assert engine.run_batch().counts["sent"] == 1

    assert Delivery.objects.get(pk=open_now[0]).status == DeliveryStatus.SENT
    deferred = Delivery.objects.get(pk=closed_now[0])
    assert (deferred.status, deferred.defer_reason) == (DeliveryStatus.PENDING, "send_window")


def test_two_numbers_of_one_business_in_different_zones_get_their_own_windows(engine, clock):
    # No zone of their own: New York's area code is open at 15:00 UTC, Honolulu's is not
    # (05:00).
    business = unthrottled_business()
    new_york = make_due_deliveries(business, 1)
    honolulu = make_due_deliveries(business, 1, first_id=1)
    Customer.objects.update(time_zone="")
    Customer.objects.filter(enrollments__deliveries__pk=new_york[0]).update(phone="+12125550123")
    Customer.objects.filter(enrollments__deliveries__pk=honolulu[0]).update(phone="+18089560123")

    assert engine.run_batch().counts["sent"] == 1

    assert Delivery.objects.get(pk=new_york[0]).status == DeliveryStatus.SENT
    assert Delivery.objects.get(pk=honolulu[0]).defer_reason == "send_window"
