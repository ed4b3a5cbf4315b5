"""Batches back to back (`run_batches`, as the worker runs them): the next batch is claimed
and decided while the calls of the one before are still in flight, its rules see every row of
the one before, and stopping gives back the rows decided ahead. PostgreSQL: the lookahead
has a connection of its own."""

import asyncio
import gc
import threading
import weakref

import psycopg
import pytest
from django.db import connection

from tests.bulk import make_due_deliveries, unthrottled_business
from tests.processes import database_url
from touchbase.campaigns.enrollment import stop_enrollment
from touchbase.campaigns.models import Enrollment, MessageTemplate
from touchbase.campaigns.services import TouchSpec, create_campaign
from touchbase.customers.models import Customer
from touchbase.customers.services import record_sms_opt_out
from touchbase.delivery.backends.sms import MemorySmsTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
DECIDED_NOT_STARTED = (
    "SELECT count(*) FROM delivery_delivery WHERE status = 'sending' AND sent_at IS NULL"
)


class SlowProvider(MemorySmsTransport):
    """Answers after `delay` seconds; as each answer comes back, looks at how many rows are
    decided and waiting for a call (a batch decided ahead shows there)."""

    def __init__(self, delay: float, stop_after: int | None = None, stop=None):
        self.delay, self.stop_after, self.stop = delay, stop_after, stop
        self.database = psycopg.connect(database_url(), autocommit=True)
        self.looking = threading.Lock()
        self.waiting_at_answer: list[int] = []

    async def send_async(self, message, *, idempotency_key):
        await asyncio.sleep(self.delay)
        with self.looking:
            waiting = self.database.execute(DECIDED_NOT_STARTED).fetchone()[0]
            self.waiting_at_answer.append(waiting)
            if self.stop_after is not None and len(self.waiting_at_answer) >= self.stop_after:
                self.stop.set()
        return self.send(message, idempotency_key=idempotency_key)


@pytest.fixture
def provider(sms_outbox):
    providers = []

    def make(*args, **kwargs) -> SlowProvider:
        providers.append(SlowProvider(*args, **kwargs))
        return providers[-1]

    yield make
    for made in providers:
        made.database.close()


def engine_for(transport, *, batch_size: int, stop=None, concurrency: int = 4) -> DeliveryEngine:
    return DeliveryEngine(
        batch_size=batch_size,
        concurrency=concurrency,
        owner="lookahead",
        transports={"sms": transport},
        stop_event=stop,
    )


def test_the_next_batch_is_decided_while_the_calls_before_it_are_in_flight(provider):
    make_due_deliveries(unthrottled_business(), 36)  # batches of 8, 8, 8, 8 and 4
    slow = provider(0.2)

    outcome = engine_for(slow, batch_size=8).run_batches(5)

    assert (outcome.claimed, outcome.counts["sent"]) == (36, 36)
    assert Delivery.objects.filter(status="sent").count() == 36
    # Answers came back with the next batch already decided and waiting behind the rest of
    # the current one (the slots never waited for a claim), and never more than one batch
    # ahead: two batches' rows at most wait for a call (the lease rule).
    assert max(slow.waiting_at_answer) == 16
    assert outcome.more is False


def test_a_batch_decided_ahead_sees_the_one_before(provider):
    """The cap of one text an hour to a number holds across batches decided ahead: each is
    committed `sending` before the next is decided."""
    business = unthrottled_business()
    make_due_deliveries(business, 3)
    Customer.objects.filter(business=business).update(phone="+13055550142")

    outcome = engine_for(provider(0.05), batch_size=1).run_batches(5)

    assert outcome.counts["sent"] == 1
    assert outcome.counts["deferred_frequency_cap"] == 2
    assert Delivery.objects.filter(status="pending", defer_reason="frequency_cap").count() == 2


def test_stopping_gives_back_the_rows_decided_ahead(provider):
    make_due_deliveries(unthrottled_business(), 40)
    stop = threading.Event()
    # Stopped at the sixth answer: the first batch's last calls waiting for a slot, the
    # next batch decided ahead.
    slow = provider(0.1, stop_after=6, stop=stop)

    outcome = engine_for(slow, batch_size=10, stop=stop).run_batches(5)

    called = outcome.counts["sent"]
    assert 6 <= called <= 8  # the calls in flight when it stopped, no more
    assert Delivery.objects.filter(status="sent").count() == called
    # Nothing left `sending` or `claimed` (so nothing for the reaper to make uncertain):
    # the rows decided but never called, this batch's and the next one's, are pending.
    assert Delivery.objects.filter(status__in=["sending", "claimed", "uncertain"]).count() == 0
    assert Delivery.objects.filter(status="pending").count() == 40 - called
    assert outcome.counts["released"] == outcome.claimed - called


def test_a_step_claims_no_batch_once_its_time_is_up(provider):
    """The worker's step ends after `seconds` (its next heartbeat is due), the rest waiting
    for the next step; within its time it goes on while claims come back full."""
    make_due_deliveries(unthrottled_business(), 30)
    engine = engine_for(provider(0.01), batch_size=10)

    late = engine.run_batches(5, seconds=0)
    assert (late.claimed, late.counts["sent"], late.more) == (10, 10, True)
    assert Delivery.objects.filter(status="pending").count() == 20

    in_time = engine.run_batches(5, seconds=60)
    assert (in_time.claimed, in_time.counts["sent"], in_time.more) == (20, 20, False)
    assert Delivery.objects.filter(status="pending").count() == 0


class WatchedEngine(DeliveryEngine):
    """Keeps a weak reference to every call it starts, and counts, as its 50th call starts,
    how many of the second batch's are still held in memory."""

    def __init__(self, **options):
        super().__init__(**options)
        self.started: list[weakref.ref] = []
        self.second_batch_held: int | None = None

    def _start(self, sends):
        started = super()._start(sends)
        self.started.extend(weakref.ref(send) for send in started)
        if len(self.started) >= 50 and self.second_batch_held is None:
            gc.collect()
            self.second_batch_held = sum(ref() is not None for ref in self.started[10:20])
        return started


def test_a_long_step_lets_go_of_the_calls_it_has_recorded(provider):
    """A step runs batches for seconds: what it holds must not grow with them (the
    worker's peak memory, bench_worker.py)."""
    make_due_deliveries(unthrottled_business(), 60)
    engine = WatchedEngine(
        batch_size=10, concurrency=4, owner="lookahead", transports={"sms": provider(0.005)}
    )

    outcome = engine.run_batches(10)

    assert (outcome.claimed, outcome.counts["sent"]) == (60, 60)
    assert engine.second_batch_held == 0


class TakesBackWhileWaiting(SlowProvider):
    """On its first call, once the next batch is decided and waiting for a slot, runs
    `take_back` (a stop or an opt-out, as the web app or an inbound reply would) on its
    own thread and database connection; then answers like the others."""

    def __init__(self, delay: float, take_back):
        super().__init__(delay)
        self.take_back, self.taken = take_back, False

    async def send_async(self, message, *, idempotency_key):
        if not self.taken:
            self.taken = True
            for _ in range(500):
                if self.database.execute(DECIDED_NOT_STARTED).fetchone()[0] >= 2:
                    break
                await asyncio.sleep(0.01)
            await asyncio.to_thread(self.run_take_back)
        return await super().send_async(message, idempotency_key=idempotency_key)

    def run_take_back(self):
        try:
            self.take_back()
        finally:
            connection.close()  # this thread's own connection


def phones_texted() -> list[str]:
    return [message.to for message in MemorySmsTransport.outbox]


def test_a_stop_reaches_a_text_decided_but_not_yet_called(sms_outbox):
    """Rows 3-4 are decided while rows 1-2 hold both slots (concurrency 2); the owner
    stops row 3's sequence meanwhile: it is cancelled and never texted."""
    ids = make_due_deliveries(unthrottled_business(), 4)
    third = Delivery.objects.select_related("enrollment__customer").get(pk=ids[2])
    provider = TakesBackWhileWaiting(
        0.2, lambda: stop_enrollment(enrollment=Enrollment.objects.get(pk=third.enrollment_id))
    )
    try:
        outcome = engine_for(provider, batch_size=2, concurrency=2).run_batches(5)
    finally:
        provider.database.close()

    assert outcome.counts["sent"] == 3
    assert third.enrollment.customer.phone not in phones_texted()
    stopped = Delivery.objects.get(pk=ids[2])
    assert (stopped.status, stopped.skip_reason, stopped.sent_at) == (
        "cancelled",
        "owner_stopped",
        None,
    )
    assert Delivery.objects.filter(status="sent").count() == 3


def test_an_sms_opt_out_reaches_a_text_decided_but_not_yet_called(sms_outbox):
    """The same, with STOP from row 3's customer while an email touch still follows: the
    sequence goes on, the decided text goes back to be decided again and is skipped."""
    business = unthrottled_business()
    create_campaign(
        business=business,
        name="Bulk sms",  # the campaign make_due_deliveries enrolls into
        service_type="other",
        touches=[
            TouchSpec("sms", 1, MessageTemplate.objects.get(system_key="sms_request")),
            TouchSpec("email", 48, MessageTemplate.objects.get(system_key="email_request")),
        ],
    )
    ids = make_due_deliveries(business, 4)
    third = Delivery.objects.select_related("enrollment__customer").get(pk=ids[2])
    customer = third.enrollment.customer
    provider = TakesBackWhileWaiting(
        0.2, lambda: record_sms_opt_out(customer=customer, source="keyword")
    )
    engine = engine_for(provider, batch_size=2, concurrency=2)
    try:
        engine.run_batches(5)
        engine.run_batches(5)  # what went back to `pending` meanwhile
    finally:
        provider.database.close()

    assert customer.phone not in phones_texted()
    skipped = Delivery.objects.get(pk=ids[2])
    assert (skipped.status, skipped.skip_reason, skipped.sent_at) == (
        "skipped",
        "sms_opted_out",
        None,
    )
    assert Delivery.objects.get(enrollment_id=third.enrollment_id, position=2).status == "pending"
    assert Delivery.objects.filter(status="sent").count() == 3


def test_a_decided_row_is_started_once_however_many_sends_wait_for_it(sms_outbox):
    """A row taken back and decided again while its first send still waits has two sends
    in the queue: the start step commits only the first (the other is never called)."""
    make_due_deliveries(unthrottled_business(), 1)
    engine = engine_for(MemorySmsTransport(), batch_size=1)
    batch = engine._claim_and_decide()
    (send,) = batch.sends

    assert engine._start([send]) == [send]
    assert engine._start([send]) == []
