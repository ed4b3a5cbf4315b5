"""One record write holding every kind of answer (sent, retry, permanent error with its
customer effect, no answer, stopped before the call) leaves each row as that answer alone
would: on SQLite the ORM writes it, on PostgreSQL two statements (record_sql.py)."""

from datetime import timedelta

import psycopg
import pytest

from tests.delivery.test_transports import twilio_transport
from tests.factories import complete_job, make_business, make_campaign, make_customer
from tests.processes import database_url
from tests.servers import Behaviour
from touchbase import clock as touchbase_clock
from touchbase.campaigns.models import Touch
from touchbase.customers.models import Customer
from touchbase.delivery.backends.email import DjangoEmailTransport
from touchbase.delivery.backends.twilio import TwilioSmsTransport
from touchbase.delivery.engine import DeliveryEngine
from touchbase.delivery.models import Delivery, DeliveryAttempt
from touchbase.delivery.sending import SendAndRecord
from touchbase.delivery.wakeup import CHANNEL
from touchbase.webhooks.models import WebhookMessage
from touchbase.webhooks.services import create_endpoint

PHONES = {
    "sent": "+13055550101",
    "retry": "+13055550102",
    "invalid": "+13055550103",
    "no_answer": "+13055550104",
    "released": "+13055550105",  # claimed last: the engine is stopped before its call
}


class StoppedAfterNoAnswer(TwilioSmsTransport):
    """The real Twilio client; the worker is told to stop during the no-answer call, so the
    last started delivery is never called."""

    engine: DeliveryEngine

    def send(self, message, *, idempotency_key):
        try:
            return super().send(message, idempotency_key=idempotency_key)
        finally:
            if message.to == PHONES["no_answer"]:
                self.engine.stop_event.set()


@pytest.fixture
def engine(twilio, mailoutbox):
    transport = twilio_transport(twilio, StoppedAfterNoAnswer, status_callback_url="", timeout=1)
    # Concurrency 1: the five calls start together and are written in one write.
    engine = transport.engine = DeliveryEngine(
        batch_size=10,
        concurrency=1,
        lease_seconds=60,
        owner="mixed-write",
        transports={
            "sms": transport,
            "email": DjangoEmailTransport("django.core.mail.backends.locmem.EmailBackend"),
        },
    )
    return engine


@pytest.fixture
def deliveries(clock, settings, twilio):
    settings.TOUCHBASE_WEBHOOKS = {**settings.TOUCHBASE_WEBHOOKS, "allow_private": True}
    business = make_business(email_hourly_limit=1000, sms_hourly_limit=1000)
    create_endpoint(business=business, url="https://127.0.0.1/hook")
    make_campaign(business, "aggressive")  # SMS 4 h, email 24 h, SMS 72 h, email 168 h
    rows = {}
    for name, phone in PHONES.items():
        customer = make_customer(business, f"Customer {name}", phone=phone, sms_consent=True)
        enrollment_id = complete_job(business, customer).enrollment.enrollment_id
        rows[name] = Delivery.objects.get(enrollment_id=enrollment_id)
    clock.move_to(max(d.send_after for d in rows.values()), tick=False)
    twilio.by_number = {
        PHONES["retry"]: Behaviour(status=500),
        PHONES["invalid"]: Behaviour(status=400, code=21211),
        PHONES["no_answer"]: Behaviour(drop=True),
    }
    return rows


@pytest.fixture
def writes(monkeypatch):
    """How many answers each record write held."""
    sizes: list[int] = []
    record = SendAndRecord._record

    def counted(self, sends, touches):
        sizes.append(len(sends))
        return record(self, sends, touches)

    monkeypatch.setattr(SendAndRecord, "_record", counted)
    return sizes


def fresh(delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


def second_touch(delivery) -> Delivery | None:
    return Delivery.objects.filter(enrollment_id=delivery.enrollment_id, position=2).first()


@pytest.mark.django_db
def test_one_write_of_every_kind_of_answer_leaves_each_row_as_its_answer_says(
    engine, deliveries, writes, clock
):
    counts = engine.run_batch().counts
    now = touchbase_clock.now()

    assert [size for size in writes if size] == [5]  # one write held them all
    assert (counts["sent"], counts["retry"], counts["failed"]) == (1, 1, 1)
    assert (counts["uncertain"], counts["released"]) == (1, 1)
    rows = {name: fresh(delivery) for name, delivery in deliveries.items()}
    for row in rows.values():
        assert (row.lease_owner, row.lease_expires_at, row.updated_at) == ("", None, now)

    sent = rows["sent"]
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 1, now)
    assert sent.provider_message_id.startswith("SM") and sent.error_code == ""

    retry = rows["retry"]
    assert (retry.status, retry.attempts, retry.defer_reason) == ("pending", 1, "retry")
    assert (retry.send_after, retry.sent_at) == (now + timedelta(minutes=1), None)
    assert second_touch(retry) is None and retry.enrollment.current_position == 1

    invalid = rows["invalid"]
    assert (invalid.status, invalid.attempts, invalid.error_code) == ("failed", 1, "21211")
    customer = Customer.objects.get(pk=invalid.enrollment.customer_id)
    assert customer.phone_unusable == "invalid"

    no_answer = rows["no_answer"]
    assert (no_answer.status, no_answer.attempts) == ("uncertain", 1)
    assert no_answer.sent_at is not None

    released = rows["released"]
    assert (released.status, released.attempts, released.sent_at) == ("pending", 0, None)

    # The sequence moves on after sent, failed (by email) and uncertain touches, from each
    # touch's scheduled time; a retry and a released touch stay where they are.
    delay = Touch.objects.get(campaign_id=sent.enrollment.campaign_id, position=2).delay_hours
    for name in ("sent", "invalid", "no_answer"):
        following = second_touch(rows[name])
        assert (following.channel, following.status) == ("email", "pending"), name
        assert following.scheduled_at == rows[name].scheduled_at + timedelta(hours=delay)
        assert following.send_after == following.scheduled_at
        assert (following.attempts, following.lease_owner, following.sent_at) == (0, "", None)
        assert following.created_at == following.updated_at == now
        assert fresh(following).enrollment.current_position == 2
    assert second_touch(released) is None

    attempts = DeliveryAttempt.objects.filter(delivery__in=list(rows.values()))
    assert sorted((a.delivery_id, a.number, a.outcome) for a in attempts) == sorted(
        [
            (sent.pk, 1, "sent"),
            (retry.pk, 1, "transient"),
            (invalid.pk, 1, "permanent"),
            (no_answer.pk, 1, "unknown"),
        ]
    )
    assert DeliveryAttempt.objects.get(delivery=sent).provider_message_id == (
        sent.provider_message_id
    )
    events = WebhookMessage.objects.filter(event_type__startswith="delivery.")
    assert sorted(events.values_list("event_type", flat=True)) == [
        "delivery.failed",
        "delivery.sent",
        "delivery.uncertain",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_record_write_notifies_workers_of_the_touches_it_leaves_pending(engine, deliveries):
    with psycopg.connect(database_url(), autocommit=True) as listener:
        listener.execute(f"LISTEN {CHANNEL}")
        engine.run_batch()
        notices = {float(n.payload) for n in listener.notifies(timeout=2)}
    # The outcomes' UPDATE notifies the earliest row it left pending (the released one,
    # due before the retry), the next touches' INSERT the earliest of them.
    released = fresh(deliveries["released"])
    firsts = [second_touch(deliveries[name]) for name in ("sent", "invalid", "no_answer")]
    assert released.send_after.timestamp() in notices
    assert min(d.send_after for d in firsts).timestamp() in notices
