"""One bad row never stops a batch: poison rows, numbers without a place, windows the law
leaves empty, and a batch that fails as a whole (the worker loop carries on)."""

import threading
from datetime import UTC, datetime, time

import pytest
from django.test import Client

from tests.factories import complete_job, make_business, make_campaign, make_customer, make_user
from touchbase.customers.models import Customer
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery
from touchbase.delivery.worker import Worker
from touchbase.tenancy.services import add_member

pytestmark = pytest.mark.django_db

MONDAY_2030_NEW_YORK = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)


@pytest.fixture
def business(clock):
    # The owner only texts in the evening, which Florida's law (08:00-20:00) never allows.
    return make_business(
        "Evening Air",
        send_window_start=time(20),
        send_window_end=time(21),
        email_hourly_limit=1000,
        sms_hourly_limit=1000,
    )


def enroll(business, name, **fields) -> Delivery:
    customer = make_customer(business, name, sms_consent=True, **fields)
    result = complete_job(business, customer)
    return Delivery.objects.get(enrollment_id=result.enrollment.enrollment_id)


def test_a_batch_with_poison_rows_sends_everything_else(engine, business, clock, sms_outbox):
    make_campaign(business, "aggressive")  # touch 1 is an SMS
    toll_free = enroll(business, "Toll Free", phone="+1 800 555 1212")
    florida = enroll(business, "Florida", phone="(305) 555-0142")
    poison = enroll(business, "Poison", phone="(212) 555-0123")
    Customer.objects.filter(pk=poison.enrollment.customer_id).update(time_zone="Mars/Olympus")
    fine = [enroll(business, f"Fine {n}", phone=f"(212) 555-01{n:02d}") for n in range(3)]
    clock.move_to(MONDAY_2030_NEW_YORK, tick=False)

    outcome = engine.run_batch()

    status = dict(Delivery.objects.filter(position=1).values_list("pk", "status"))
    assert status[toll_free.pk] == "sent"  # in the business's zone: 20:30 is open
    assert all(status[d.pk] == "sent" for d in fine)
    assert len(sms_outbox) == 4
    skipped = Delivery.objects.get(pk=florida.pk)
    assert (skipped.status, skipped.skip_reason) == ("skipped", "no_legal_window")
    assert Delivery.objects.filter(enrollment=florida.enrollment, position=2).exists()
    failed = Delivery.objects.get(pk=poison.pk)
    assert (failed.status, failed.error_code) == ("failed", "internal_error")
    assert failed.error_message.startswith("ZoneInfoNotFoundError: ")
    assert failed.lease_owner == "" and failed.lease_expires_at is None
    assert Delivery.objects.filter(enrollment=poison.enrollment, position=2).exists()
    assert outcome.counts["internal_error"] == 1 and outcome.counts["sent"] == 4


def test_an_internal_error_is_shown_to_the_owner_under_needs_attention(engine, business, clock):
    make_campaign(business, "aggressive")
    poison = enroll(business, "Poison", phone="(212) 555-0123")
    Customer.objects.filter(pk=poison.enrollment.customer_id).update(time_zone="Mars/Olympus")
    clock.move_to(MONDAY_2030_NEW_YORK, tick=False)
    engine.run_batch()
    user = make_user()
    add_member(business=business, user=user, role="owner")
    client = Client()
    client.force_login(user)

    page = client.get("/").content.decode()

    assert "ZoneInfoNotFoundError" in page


# Transactional: the loop drops stale connections between batches, as in production.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_loop_outlives_a_failing_batch_and_counts_it(business, clock, monkeypatch):
    make_campaign(business, "aggressive")
    delivery = enroll(business, "Fine", phone="(212) 555-0123")
    clock.move_to(MONDAY_2030_NEW_YORK, tick=False)
    stop = threading.Event()
    engine = DeliveryEngine(batch_size=10, concurrency=1, owner="loop", stop_event=stop)
    real_run_batch, calls = engine.run_batch, []

    def run_batch():  # the first batch meets a bug; the second must still run
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in one batch")
        outcome = real_run_batch()
        stop.set()
        return outcome

    monkeypatch.setattr(engine, "run_batch", run_batch)
    worker = Worker(engine, idle_seconds=0.01)
    worker.backoff.first = 0.01

    totals = worker.run()

    assert totals["batch_errors"] == 1 and totals["sent"] == 1
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"
